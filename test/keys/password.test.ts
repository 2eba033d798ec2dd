import { expect } from 'chai';
import { readPassword } from '../../src/keys/password.js';
import { makeTempDir } from '../helpers/tmp.js';
import { thrown, write } from './fixtures.js';

describe('readPassword', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  beforeEach(() => (tmp = makeTempDir()));
  afterEach(() => tmp.cleanup());

  it('returns undefined when no source is configured', async () => {
    expect(await readPassword(undefined, {})).to.equal(undefined);
    expect(await readPassword({}, {})).to.equal(undefined);
  });

  it('returns an inline value as it is', async () => {
    expect(await readPassword({ value: ' s3cret ' }, {})).to.equal(' s3cret ');
  });

  it('reads a named environment variable, and an empty one is an empty password', async () => {
    expect(await readPassword({ env: 'KEY_PW' }, { KEY_PW: 'from-env' })).to.equal('from-env');
    expect(await readPassword({ env: 'KEY_PW' }, { KEY_PW: '' })).to.equal('');
  });

  it('fails with KEY_PASSWORD naming the variable when it is not set, without any secret', async () => {
    const e = await thrown(() => readPassword({ env: 'MISSING_PW' }, { OTHER: 'x' }));
    expect(e.code).to.equal('KEY_PASSWORD');
    expect(e.message).to.contain('MISSING_PW');
  });

  it('lets the PKCS#11 source choose its own code and wording', async () => {
    const e = await thrown(() => readPassword({ env: 'PIN_VAR' }, {}, { what: 'PIN', code: 'PKCS11_PIN' }));
    expect(e.code).to.equal('PKCS11_PIN');
    expect(e.message).to.equal('the PIN variable PIN_VAR is not set');
  });

  it('reads a file and trims exactly one trailing newline (LF or CRLF)', async () => {
    expect(await readPassword({ file: write(tmp.dir, 'a', 'pw with spaces \n') }, {})).to.equal('pw with spaces ');
    expect(await readPassword({ file: write(tmp.dir, 'b', 'pw\r\n') }, {})).to.equal('pw');
    expect(await readPassword({ file: write(tmp.dir, 'c', 'pw\n\n') }, {})).to.equal('pw\n');
    expect(await readPassword({ file: write(tmp.dir, 'd', 'pw') }, {})).to.equal('pw');
  });

  it('fails with FILE_UNREADABLE naming a missing password file', async () => {
    const path = `${tmp.dir}/nope`;
    const e = await thrown(() => readPassword({ file: path }, {}));
    expect(e.code).to.equal('FILE_UNREADABLE');
    expect(e.message).to.equal(`cannot read password file ${path}: no such file`);
  });

  it('refuses a source that names two ways at once', async () => {
    const e = await thrown(() => readPassword({ value: 'a', env: 'B' }, { B: 'b' }));
    expect(e.code).to.equal('ARGUMENT_INVALID');
    expect(e.message).to.contain('value, env');
    expect(e.message).not.to.contain("'a'");
  });
});
