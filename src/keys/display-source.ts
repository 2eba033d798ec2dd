/**
 * A key source (certificate or private key: a path or a pkcs11: URI) as it may be shown or stored:
 * a URI loses its `pin-value` and any other query attribute that could carry a secret. Every place
 * that prints or saves a key source goes through this (validate, once, status, the state file),
 * so a PIN typed into a URI stays in the schedule it was typed into.
 */
import { displayKeySource } from './sources/index.js';

export function displaySource(source: string): string {
  return displayKeySource(source);
}
