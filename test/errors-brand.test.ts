import { expect } from 'chai';
import { AgentError } from '../src/errors.js';
import { ConfigError } from '../src/config/issues.js';

describe('AgentError across module copies', () => {
  it('counts an AgentError made by a second copy of errors.ts (a lazily imported module graph) as an AgentError', async () => {
    // A query string makes the ESM loader evaluate the file again: a second AgentError class.
    const copy = (await import(`../src/errors.js?copy=${Date.now()}`)) as typeof import('../src/errors.js');
    expect(copy.AgentError, 'the copy is another class').not.to.equal(AgentError);
    const e = new copy.AgentError('KEY_PASSWORD', 'could not decrypt k.pem: wrong password?');
    expect(e instanceof AgentError, 'instanceof AgentError').to.equal(true);
    expect(new AgentError('INTERNAL', 'x') instanceof copy.AgentError, 'and the other way round').to.equal(true);
  });

  it('keeps instanceof exact for anything else and for subclasses', () => {
    expect(new Error('plain') instanceof AgentError, 'a plain Error').to.equal(false);
    expect({ code: 'INTERNAL', name: 'AgentError' } instanceof AgentError, 'a look-alike object').to.equal(false);
    expect(new AgentError('CONFIG_INVALID', 'x') instanceof ConfigError, 'an AgentError is not a ConfigError').to.equal(false);
  });
});
