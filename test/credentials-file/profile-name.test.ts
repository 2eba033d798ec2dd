/** The one profile-name rule every reader of a name asks (schedule, writer, update, once, import). */
import { expect } from 'chai';
import { PROFILE_NAME_PATTERN, profileNameProblem, RESERVED_PROFILE_NAMES } from '../../src/credentials-file/profile-name.js';
import { validateProfileName } from '../../src/credentials-file/edit.js';
import { AgentError } from '../../src/errors.js';

describe('credentials-file: the profile-name rule', () => {
  for (const name of ['default', 'dev', 'a.b', 'ops@prod', 'x+y', 'under_score', 'dash-ed', 'Default', 'x'.repeat(64), '__proto', 'proto__', 'constructor']) {
    it(`accepts ${JSON.stringify(name)}`, () => {
      expect(profileNameProblem(name), `problem with ${JSON.stringify(name)}`).to.equal(undefined);
    });
  }

  const refused: Array<[string, 'characters' | 'default-section' | 'reserved']> = [
    ['', 'characters'],
    ['a b', 'characters'],
    ['[x]', 'characters'],
    ['a#b', 'characters'],
    ['a;b', 'characters'],
    ['profile dev', 'characters'],
    ['é', 'characters'],
    ['x'.repeat(65), 'characters'],
    ['DEFAULT', 'default-section'],
    ['__proto__', 'reserved'],
  ];
  for (const [name, kind] of refused) {
    it(`refuses ${JSON.stringify(name)} as ${kind}, with a message naming it and a hint`, () => {
      const p = profileNameProblem(name);
      expect(p?.kind, `kind of the problem with ${JSON.stringify(name)}`).to.equal(kind);
      expect(p!.hint.length, 'hint length').to.be.greaterThan(0);
      if (name.length > 0 && /^[\x20-\x7e]+$/.test(name)) expect(p!.message, 'message').to.include(`"${name}"`);
    });
  }

  it('does not echo control characters: the name is then not shown', () => {
    const p = profileNameProblem('a\x1b[31mb');
    expect(p?.message, 'message').to.equal('the name cannot be a section name in the credentials file');
  });

  it('is the writer\'s rule: every refused name throws ARGUMENT_INVALID with the same hint', () => {
    for (const [name] of refused) {
      let caught: unknown;
      try {
        validateProfileName(name);
      } catch (e) {
        caught = e;
      }
      expect(caught instanceof AgentError && caught.code, `code for ${JSON.stringify(name)}`).to.equal('ARGUMENT_INVALID');
      expect((caught as AgentError).hint, `hint for ${JSON.stringify(name)}`).to.equal(profileNameProblem(name)!.hint);
    }
  });

  it('refuses every reserved name the JSON Schema lists', () => {
    for (const name of RESERVED_PROFILE_NAMES) expect(profileNameProblem(name)?.kind, `kind for ${name}`).to.be.oneOf(['default-section', 'reserved']);
  });
});
