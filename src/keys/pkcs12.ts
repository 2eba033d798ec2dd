/**
 * PKCS#12 (.p12/.pfx) bundles: verifies the password MAC, decrypts the certificate and key bags and
 * picks the end-entity certificate as the one whose public key matches the bundle's private key; the
 * other certificates become the chain, issuer first. Reads what OpenSSL 3 writes by default (PBES2
 * AES-256-CBC with PBKDF2, HMAC-SHA-256 MAC) and what `-legacy`, Windows and old Java write (SHA-1 MAC,
 * 3DES keys, 40-bit RC2 certificates), with or without a password.
 */
import { AsnConvert, AsnProp, AsnPropTypes } from '@peculiar/asn1-schema';
import { EncryptedContentInfo } from '@peculiar/asn1-cms';
import {
  AuthenticatedSafe,
  CertBag,
  PFX,
  SafeContents,
  id_SafeContents,
  id_certBag,
  id_keyBag,
  id_pkcs8ShroudedKeyBag,
  id_x509Certificate,
  type SafeBag,
} from '@peculiar/asn1-pfx';
import * as asn1js from 'asn1js';
import { createHmac, createPublicKey, timingSafeEqual, type KeyObject, type X509Certificate } from 'node:crypto';
import { AgentError } from '../errors.js';
import { orderChain, parseDerCertificate } from './certificates.js';
import { DIGEST_HASHES, PbeFailed, PbeUnsupported, decryptPbe, passwordBytes, pkcs12Kdf, type PasswordBytes } from './pbe.js';
import { decryptPkcs8 } from './encrypted-key.js';
import { PASSWORD_HINT, keyFromDer, unsupportedEncryption, wrongPassword, type PasswordProvider } from './private-key.js';

/** CMS EncryptedData (RFC 5652 section 8); @peculiar/asn1-cms has no class for it. */
class CmsEncryptedData {
  @AsnProp({ type: AsnPropTypes.Integer }) version = 0;
  @AsnProp({ type: EncryptedContentInfo }) encryptedContentInfo = new EncryptedContentInfo();
}

const ID_DATA = '1.2.840.113549.1.7.1';
const ID_ENCRYPTED_DATA = '1.2.840.113549.1.7.6';
const ID_PBMAC1 = '1.2.840.113549.1.5.14';

export interface Pkcs12Contents {
  key: KeyObject;
  leaf: X509Certificate;
  /** Issuer first; self-signed roots left out (see orderChain). */
  chain: X509Certificate[];
}

/** True when the bytes parse as a PFX structure, for telling a bundle from a DER certificate. */
export function looksLikePkcs12(der: Buffer): boolean {
  try {
    return AsnConvert.parse(der, PFX).version === 3;
  } catch {
    return false;
  }
}

export async function parsePkcs12(der: Buffer, where: string, password: PasswordProvider): Promise<Pkcs12Contents> {
  let pfx: PFX;
  try {
    pfx = AsnConvert.parse(der, PFX);
  } catch (e) {
    throw new AgentError('CERTIFICATE_INVALID', `${where} is not a PKCS#12 bundle`, {
      cause: e,
      hint: 'give a PEM or DER certificate with private_key, or a .p12/.pfx bundle without it',
    });
  }
  if (pfx.authSafe.contentType !== ID_DATA) {
    throw new AgentError('KEY_INVALID', `${where} uses PKCS#12 public-key integrity mode, which is not supported`, {
      hint: 'export it again with a password (openssl pkcs12 -export)',
    });
  }
  const authSafeBytes = octets(pfx.authSafe.content, where);
  const given = await password();
  // An empty or absent password may have been encoded either way (see passwordBytes).
  const candidates = given === undefined || given === '' ? [passwordBytes(''), passwordBytes(null)] : [passwordBytes(given)];

  let usable = candidates;
  // The schema fills an absent MacData with an empty default, so look at its content.
  const hasMac = Boolean(pfx.macData?.mac?.digestAlgorithm?.algorithm);
  if (hasMac) {
    const match = candidates.find((c) => macMatches(pfx, authSafeBytes, c, where));
    if (!match) {
      if (given === undefined) {
        throw new AgentError('KEY_PASSWORD', `PKCS#12 bundle ${where} is password-protected and no password was given`, {
          hint: PASSWORD_HINT,
        });
      }
      throw wrongPassword(where);
    }
    usable = [match];
  }

  // Without a MAC, the first password encoding that decrypts every bag wins.
  let lastError: unknown;
  for (const pw of usable) {
    try {
      return readBags(authSafeBytes, where, pw);
    } catch (e) {
      lastError = e;
      if (!(e instanceof AgentError && e.code === 'KEY_PASSWORD')) throw e;
    }
  }
  if (given === undefined && !hasMac) {
    throw new AgentError('KEY_PASSWORD', `PKCS#12 bundle ${where} is encrypted and no password was given`, {
      hint: PASSWORD_HINT,
      cause: lastError,
    });
  }
  throw lastError;
}

function macMatches(pfx: PFX, authSafe: Buffer, pw: PasswordBytes, where: string): boolean {
  const mac = pfx.macData.mac;
  const oid = mac.digestAlgorithm.algorithm;
  if (oid === ID_PBMAC1) {
    throw new AgentError('KEY_INVALID', `${where} is protected with PBMAC1, which is not supported yet`, {
      hint: 'export it again with an HMAC-SHA-256 MAC (openssl pkcs12 -export -macalg sha256)',
    });
  }
  const hash = DIGEST_HASHES[oid];
  if (!hash) {
    throw new AgentError('KEY_INVALID', `${where} uses an unsupported MAC digest ${oid}`, {
      hint: 'export it again with openssl pkcs12 -export -macalg sha256',
    });
  }
  const expected = Buffer.from(mac.digest.buffer);
  const salt = Buffer.from(pfx.macData.macSalt.buffer);
  const key = pkcs12Kdf(hash, pw.bmp, salt, pfx.macData.iterations, 3, expected.length);
  const actual = createHmac(hash, key).update(authSafe).digest();
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function readBags(authSafeBytes: Buffer, where: string, pw: PasswordBytes): Pkcs12Contents {
  const bags: SafeBag[] = [];
  const authSafe = parseOr(() => AsnConvert.parse(authSafeBytes, AuthenticatedSafe), where);
  for (const info of authSafe) {
    let contents: Buffer;
    if (info.contentType === ID_DATA) {
      contents = octets(info.content, where);
    } else if (info.contentType === ID_ENCRYPTED_DATA) {
      const enc = parseOr(() => AsnConvert.parse(info.content, CmsEncryptedData), where).encryptedContentInfo;
      const c = enc.encryptedContent;
      const data = c?.value
        ? Buffer.from(c.value.buffer)
        : Buffer.concat((c?.constructedValue ?? []).map((v) => Buffer.from(v.buffer)));
      try {
        contents = decryptPbe(enc.contentEncryptionAlgorithm, data, pw);
      } catch (e) {
        if (e instanceof PbeUnsupported) throw unsupportedEncryption(where, e);
        if (e instanceof PbeFailed) throw wrongPassword(where, e);
        throw malformed(where, e);
      }
    } else {
      throw new AgentError('KEY_INVALID', `${where} holds content of type ${info.contentType} (e.g. public-key encrypted), which is not supported`, {
        hint: 'export it again with a password (openssl pkcs12 -export)',
      });
    }
    // A wrong password that happens to leave valid padding shows up here, as garbage.
    let safe: SafeContents;
    try {
      safe = AsnConvert.parse(contents, SafeContents);
    } catch (e) {
      if (info.contentType === ID_ENCRYPTED_DATA) throw wrongPassword(where, e);
      throw malformed(where, e);
    }
    collect(safe, bags, where);
  }

  const keys: KeyObject[] = [];
  const certs: X509Certificate[] = [];
  for (const bag of bags) {
    const value = Buffer.from(bag.bagValue);
    if (bag.bagId === id_keyBag) keys.push(keyFromDer(value, 'pkcs8', where, false));
    else if (bag.bagId === id_pkcs8ShroudedKeyBag) keys.push(decryptPkcs8(value, where, pw));
    else if (bag.bagId === id_certBag) {
      const certBag = parseOr(() => AsnConvert.parse(value, CertBag), where);
      if (certBag.certId !== id_x509Certificate) continue;
      certs.push(parseDerCertificate(octets(certBag.certValue, where), `${where} (certificate ${certs.length + 1})`));
    }
  }

  if (keys.length !== 1) {
    throw new AgentError('KEY_INVALID', `PKCS#12 bundle ${where} holds ${keys.length} private keys; expected exactly one`, {
      hint: 'export a bundle with the one key and its certificate chain (openssl pkcs12 -export -inkey key -in cert -certfile chain)',
    });
  }
  const key = keys[0] as KeyObject;
  if (certs.length === 0) {
    throw new AgentError('CERTIFICATE_INVALID', `PKCS#12 bundle ${where} holds no certificate`, {
      hint: 'export it again with the certificate (openssl pkcs12 -export -in cert.pem ...)',
    });
  }
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const leaf = certs.find((c) => c.publicKey.export({ type: 'spki', format: 'der' }).equals(spki));
  if (!leaf) {
    throw new AgentError('KEY_MISMATCH', `no certificate in PKCS#12 bundle ${where} matches its private key`, {
      hint: 'export the bundle again with the certificate that was issued for this key',
    });
  }
  return { key, leaf, chain: orderChain(leaf, certs) };
}

function collect(safe: SafeContents, out: SafeBag[], where: string, depth = 0): void {
  for (const bag of safe) {
    if (bag.bagId === id_SafeContents && depth < 4) {
      collect(parseOr(() => AsnConvert.parse(bag.bagValue, SafeContents), where), out, where, depth + 1);
    } else out.push(bag);
  }
}

/** The bytes of a (possibly constructed, BER) OCTET STRING. */
function octets(tlv: ArrayBuffer, where: string): Buffer {
  const parsed = asn1js.fromBER(tlv);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.OctetString)) throw malformed(where, new Error(parsed.result.error || 'not an OCTET STRING'));
  return Buffer.from(parsed.result.getValue());
}

function parseOr<T>(f: () => T, where: string): T {
  try {
    return f();
  } catch (e) {
    throw malformed(where, e);
  }
}

function malformed(where: string, cause: unknown): AgentError {
  return new AgentError('CERTIFICATE_INVALID', `PKCS#12 bundle ${where} is malformed`, {
    cause,
    hint: 'export it again (openssl pkcs12 -export)',
  });
}
