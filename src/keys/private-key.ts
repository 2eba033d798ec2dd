/**
 * Private keys from files: PEM PKCS#1, PKCS#8, SEC1 (with or without a leading EC PARAMETERS block),
 * encrypted PKCS#8 (PBES2 with PBKDF2 or scrypt, or a PKCS#12 PBE), legacy OpenSSL-encrypted PEM
 * (`Proc-Type: 4,ENCRYPTED`), and the same structures as DER. The result is a node KeyObject, checked
 * to be a key the service can use (RSA, or EC on P-256/P-384/P-521). The password is fetched only
 * when the key turns out to be encrypted, so a configured but unset variable does not break plain keys.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { AgentError } from '../errors.js';
import { OTHER_KEY_LABELS, PRIVATE_KEY_LABELS, looksLikePem, splitPem, type PemBlock } from './pem.js';
import { TPM_ROUTE_HINT, TSS2_LABEL } from './tpm.js';
import type { PbeUnsupported } from './pbe.js';

/**
 * The ASN.1 and PBE code costs ~100 ms to load, a third of a `credential-process` call: only an
 * encrypted key pays for it.
 */
const encrypted = () => import('./encrypted-key.js');

export type PasswordProvider = () => Promise<string | undefined>;

export const PASSWORD_HINT =
  'give the password from a file (--private-key-password-file, or password file in the schedule), ' +
  'an environment variable (--private-key-password-env, or password env) or inline (--pkcs8-password)';

/** `where` names the file in every error; `role` says what the file was supposed to be. */
export async function parsePrivateKeyFile(data: Buffer, where: string, password: PasswordProvider): Promise<KeyObject> {
  if (!looksLikePem(data)) return parseDerKey(data, where, password);
  const blocks = splitPem(data.toString('utf8'));
  const keys = blocks.filter((b) => PRIVATE_KEY_LABELS.has(b.label));
  if (keys.length === 0) throw noKeyError(blocks, where);
  if (keys.length > 1) {
    throw new AgentError('KEY_INVALID', `private key file ${where} holds ${keys.length} private keys`, {
      hint: 'keep only the key that belongs to the certificate in this file',
    });
  }
  return parsePrivateKeyBlock(keys[0] as PemBlock, where, password);
}

export async function parsePrivateKeyBlock(block: PemBlock, where: string, password: PasswordProvider): Promise<KeyObject> {
  if (block.label === 'ENCRYPTED PRIVATE KEY') {
    const pw = await requirePassword(password, where);
    return (await encrypted()).decryptPkcs8(block.der, where, pw);
  }
  const type = block.label === 'RSA PRIVATE KEY' ? 'pkcs1' : block.label === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs8';
  let der = block.der;
  if ((block.headers['Proc-Type'] ?? '').includes('ENCRYPTED')) {
    const pw = await requirePassword(password, where);
    der = (await encrypted()).decryptLegacyPem(block, where, pw);
    return keyFromDer(der, type, where, true);
  }
  return keyFromDer(der, type, where, false);
}

async function requirePassword(password: PasswordProvider, where: string): Promise<string> {
  const value = await password();
  if (value === undefined) {
    throw new AgentError('KEY_PASSWORD', `private key ${where} is encrypted and no password was given`, { hint: PASSWORD_HINT });
  }
  return value;
}

export function wrongPassword(where: string, cause?: unknown): AgentError {
  return new AgentError('KEY_PASSWORD', `could not decrypt ${where}: wrong password?`, {
    cause,
    hint: `check the password; ${PASSWORD_HINT}`,
  });
}

export function unsupportedEncryption(where: string, e: PbeUnsupported): AgentError {
  return new AgentError('KEY_INVALID', `${where} is encrypted with an unsupported algorithm: ${e.message}`, {
    cause: e,
    hint: 're-encrypt it with AES-256 (openssl pkcs8 -topk8 -v2 aes-256-cbc) or store it unencrypted with mode 0600',
  });
}

/**
 * A decrypted structure that does not parse means the password was wrong in the rare case where the
 * garbage still had valid padding, so `decrypted` turns a parse failure into KEY_PASSWORD.
 */
export function keyFromDer(der: Buffer, type: 'pkcs1' | 'pkcs8' | 'sec1', where: string, decrypted: boolean): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: der, format: 'der', type });
  } catch (e) {
    if (decrypted) throw wrongPassword(where, e);
    const what = type === 'pkcs1' ? 'an RSA PRIVATE KEY (PKCS#1)' : type === 'sec1' ? 'an EC PRIVATE KEY (SEC1)' : 'a PKCS#8 private key';
    throw new AgentError('KEY_INVALID', `${where} does not hold ${what} that can be read`, {
      cause: e,
      hint: 'check that the file is complete, or export the key again (openssl pkey -in key -out key.pem)',
    });
  }
  assertSupportedKey(key, where);
  return key;
}

const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/** Only RSA and EC on the NIST curves: the two CreateSession signature algorithms. */
export function assertSupportedKey(key: KeyObject, where: string): void {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown';
    if (CURVES[curve]) return;
    throw new AgentError('KEY_INVALID', `${where} is an EC key on curve ${curve}, which IAM Roles Anywhere does not accept`, {
      hint: 'use an RSA key or an EC key on P-256, P-384 or P-521',
    });
  }
  throw new AgentError('KEY_INVALID', `${where} is a${/^[aeiou]/i.test(type ?? '') ? 'n' : ''} ${type ?? 'unknown'} key, which IAM Roles Anywhere does not accept`, {
    hint: 'use an RSA key (PKCS#1 v1.5 signatures) or an EC key on P-256, P-384 or P-521 (ECDSA)',
  });
}

/** DER input: try the plain encodings, then encrypted PKCS#8. */
async function parseDerKey(data: Buffer, where: string, password: PasswordProvider): Promise<KeyObject> {
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    let key: KeyObject | undefined;
    try {
      key = createPrivateKey({ key: data, format: 'der', type });
    } catch {
      continue;
    }
    assertSupportedKey(key, where);
    return key;
  }
  const enc = await encrypted();
  if (enc.isEncryptedPkcs8(data)) return enc.decryptPkcs8(data, where, await requirePassword(password, where));
  throw new AgentError('KEY_INVALID', `${where} is neither a PEM private key nor a DER PKCS#8/PKCS#1/SEC1 key`, {
    hint: 'point private_key at the PEM key file (-----BEGIN PRIVATE KEY-----)',
  });
}

function noKeyError(blocks: PemBlock[], where: string): AgentError {
  if (blocks.some((b) => b.label === 'CERTIFICATE')) {
    return new AgentError('KEY_INVALID', `private key file ${where} holds a certificate, not a private key`, {
      hint: 'did you swap certificate and private_key?',
    });
  }
  if (blocks.some((b) => b.label === TSS2_LABEL)) {
    return new AgentError('KEY_INVALID', `private key file ${where} is a TPM key (${TSS2_LABEL}), which this agent does not support`, { hint: TPM_ROUTE_HINT });
  }
  const other = blocks.find((b) => OTHER_KEY_LABELS.has(b.label));
  if (other?.label === 'OPENSSH PRIVATE KEY') {
    return new AgentError('KEY_INVALID', `${where} is an OpenSSH private key, not a PEM key`, {
      hint: 'convert it with ssh-keygen -p -m PKCS8 -f <copy of the key>',
    });
  }
  if (other?.label === 'DSA PRIVATE KEY') {
    return new AgentError('KEY_INVALID', `${where} is a DSA key, which IAM Roles Anywhere does not accept`, {
      hint: 'use an RSA key or an EC key on P-256, P-384 or P-521',
    });
  }
  if (other) {
    return new AgentError('KEY_INVALID', `${where} holds a public key, not a private key`, {
      hint: 'point private_key at the private key the certificate was issued for',
    });
  }
  return new AgentError('KEY_INVALID', `${where}: no PRIVATE KEY block found`, {
    hint: 'expected PEM with -----BEGIN PRIVATE KEY----- (or RSA/EC/ENCRYPTED PRIVATE KEY)',
  });
}
