/** Keys (and optionally certificates) on a PKCS#11 token, named by an RFC 7512 `pkcs11:` URI in any case. */
import { isPkcs11Uri, redact } from '../pkcs11/uri.js';
import type { KeySource } from './source.js';

export const pkcs11Source: KeySource = {
  kind: 'pkcs11',
  noun: 'a pkcs11: URI',
  claims: isPkcs11Uri,
  isFile: false,
  holdsCertificate: true,
  settings: ['pkcs11_lib', 'pkcs11_pin_file', 'pkcs11_pin_env', 'reuse_pin'],
  plural: 'pkcs11: URIs',
  keyNoun: 'a key on a PKCS#11 token',
  settingsHint: 'give the token PIN with pkcs11_pin_file or pkcs11_pin_env',
  display: (value) => redact(value),
  async open(options, deps) {
    // pkcs11js itself loads only here: a host where it did not build still runs file keys.
    const { openPkcs11Signer } = await import('../pkcs11/index.js');
    return openPkcs11Signer(options, {
      env: deps.env,
      clock: deps.clock,
      ...(deps.pkcs11Registry ? { registry: deps.pkcs11Registry } : {}),
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
  },
};
