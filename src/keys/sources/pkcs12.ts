/** A PKCS#12 bundle (certificate, key and chain in one file), known by its .p12/.pfx name; read by ../load.ts. */
import type { KeySource } from './source.js';

export const PKCS12_NAME = /\.(p12|pfx)$/i;

export const pkcs12Source: KeySource = {
  kind: 'pkcs12',
  noun: 'a PKCS#12 bundle (.p12/.pfx)',
  claims: (value) => PKCS12_NAME.test(value),
  isFile: true,
  holdsCertificate: true,
  settings: ['private_key_password_file', 'private_key_password_env'],
  plural: 'PKCS#12',
  keyNoun: 'a PKCS#12 bundle',
  display: (value) => value,
};
