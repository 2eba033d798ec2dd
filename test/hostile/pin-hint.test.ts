/**
 * The hint shown when a token needs a PIN (and in the warnings about an inline PIN) must name only
 * syntax that exists: schedule keys the schedule accepts, flags the commands accept, and the
 * pkcs11: URI's pin-source. It used to suggest `pin: {file: …}` and `--pin-file` for every command.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { SESSION_FLAGS } from '../../src/cli/session-flags.js';
import { PROFILE_KEYS } from '../../src/config/keys.js';
import { PIN_HOWTO } from '../../src/keys/pkcs11/pin.js';
import { ROOT } from '../cli/built-cli.js';

describe('the PIN hint', () => {
  it('names the real schedule keys, flags and URI attribute', () => {
    for (const real of ['pkcs11_pin_file:', 'pkcs11_pin_env:', '--pkcs11-pin-file', '--pkcs11-pin-env', 'pin-source=file:']) {
      expect(PIN_HOWTO, `the hint names ${real}`).to.contain(real);
    }
  });

  it('names no schedule key or flag that does not exist', () => {
    const keys = [...PIN_HOWTO.matchAll(/\b([a-z0-9]+(?:_[a-z0-9]+)+):/g)].map((m) => m[1]!);
    expect(keys.filter((k) => !(PROFILE_KEYS as readonly string[]).includes(k)), 'unknown schedule keys').to.deep.equal([]);
    expect(PIN_HOWTO, 'a pin: map').not.to.match(/\bpin: \{/);
    // list-certs has its own --pin-file/--pin-env; the hint may name them only for list-certs.
    const flags = [...PIN_HOWTO.matchAll(/--([a-z0-9-]+)/g)].map((m) => m[1]!);
    const listCerts = ['pin-file', 'pin-env'];
    expect(flags.filter((f) => !(f in SESSION_FLAGS) && !listCerts.includes(f)), 'unknown flags').to.deep.equal([]);
    for (const f of listCerts) if (PIN_HOWTO.includes(`--${f}`)) expect(PIN_HOWTO, `--${f} is said to be list-certs'`).to.match(new RegExp(`--${f}[^;,)]*list-certs|list-certs[^;]*--${f}`));
  });

  it('docs/tpm.md names the real keys too', () => {
    const doc = readFileSync(`${ROOT}/docs/tpm.md`, 'utf8');
    expect(doc, 'docs/tpm.md').not.to.match(/`pin: \{/);
  });
});
