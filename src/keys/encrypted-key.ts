/**
 * Encrypted private keys: PKCS#8 EncryptedPrivateKeyInfo (PBES2 or a PKCS#12 PBE) and OpenSSL's
 * legacy `Proc-Type: 4,ENCRYPTED` PEM. Its own module so that a plain key never loads the ASN.1
 * schema and PBE code (private-key.ts imports it only for an encrypted key).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { EncryptedPrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { createHash, type KeyObject } from 'node:crypto';
import { AgentError } from '../errors.js';
import type { PemBlock } from './pem.js';
import { PbeFailed, PbeUnsupported, decryptPbe, nodeDecrypt, passwordBytes, pbeName, type PasswordBytes } from './pbe.js';
import { keyFromDer, unsupportedEncryption, wrongPassword } from './private-key.js';

/** Whether DER bytes parse as EncryptedPrivateKeyInfo. */
export function isEncryptedPkcs8(der: Buffer): boolean {
  try {
    AsnConvert.parse(der, EncryptedPrivateKeyInfo);
    return true;
  } catch {
    return false;
  }
}

/** Encrypted PKCS#8 (EncryptedPrivateKeyInfo DER) to a KeyObject. */
export function decryptPkcs8(der: Buffer, where: string, password: string | PasswordBytes): KeyObject {
  let info: EncryptedPrivateKeyInfo;
  try {
    info = AsnConvert.parse(der, EncryptedPrivateKeyInfo);
  } catch (e) {
    throw new AgentError('KEY_INVALID', `${where}: the ENCRYPTED PRIVATE KEY block is not valid PKCS#8`, { cause: e });
  }
  let plain: Buffer;
  try {
    plain = decryptPbe(info.encryptionAlgorithm, Buffer.from(info.encryptedData.buffer), typeof password === 'string' ? passwordBytes(password) : password);
  } catch (e) {
    if (e instanceof PbeUnsupported) throw unsupportedEncryption(where, e);
    if (e instanceof PbeFailed) throw wrongPassword(where, e);
    throw new AgentError('KEY_INVALID', `${where}: cannot read the ${pbeName(info.encryptionAlgorithm)} parameters`, { cause: e });
  }
  return keyFromDer(plain, 'pkcs8', where, true);
}

/**
 * OpenSSL's traditional encryption: DEK-Info names the cipher and IV; the key is EVP_BytesToKey with
 * MD5, one round, and the IV's first 8 bytes as salt.
 */
export function decryptLegacyPem(block: PemBlock, where: string, password: string): Buffer {
  const dek = block.headers['DEK-Info'] ?? '';
  const [cipherName = '', ivHex = ''] = dek.split(',').map((s) => s.trim());
  const cipher = cipherName.toLowerCase();
  const keyLengths: Record<string, number> = {
    'aes-128-cbc': 16,
    'aes-192-cbc': 24,
    'aes-256-cbc': 32,
    'des-ede3-cbc': 24,
    'des-cbc': 8,
  };
  const keyLength = keyLengths[cipher];
  const iv = Buffer.from(ivHex, 'hex');
  if (keyLength === undefined || iv.length < 8) {
    throw unsupportedEncryption(where, new PbeUnsupported(`DEK-Info ${cipherName || '(missing)'}`));
  }
  const pw = Buffer.from(password, 'utf8');
  const salt = iv.subarray(0, 8);
  const parts: Buffer[] = [];
  let prev = Buffer.alloc(0);
  while (Buffer.concat(parts).length < keyLength) {
    prev = createHash('md5').update(prev).update(pw).update(salt).digest();
    parts.push(prev);
  }
  const key = Buffer.concat(parts).subarray(0, keyLength);
  try {
    // Bad padding means a wrong password, as for PBES2.
    return nodeDecrypt(cipher, key, iv, block.der);
  } catch (e) {
    if (e instanceof PbeUnsupported) throw unsupportedEncryption(where, e);
    throw wrongPassword(where, e);
  }
}
