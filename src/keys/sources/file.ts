/** Anything no other source claims: a PEM/DER certificate or key file, read by ../load.ts. */
import type { KeySource } from './source.js';

export const fileSource: KeySource = {
  kind: 'file',
  noun: 'a file',
  claims: () => true,
  isFile: true,
  holdsCertificate: true,
  settings: ['private_key_password_file', 'private_key_password_env'],
  plural: 'encrypted PEM',
  keyNoun: 'a key file',
  display: (value) => value,
};
