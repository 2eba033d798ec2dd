/**
 * Password-based decryption shared by encrypted PKCS#8 keys and PKCS#12 bundles: PBES2 (PBKDF2 or
 * scrypt, with AES-CBC, 3DES-CBC or RC2-CBC), the PKCS#12 PBEs (SHA-1 with 3DES, RC2 or RC4) and the
 * PKCS#12 key derivation function (RFC 7292 appendix B) that those PBEs and the PKCS#12 MAC use.
 * It throws PbeUnsupported for an algorithm it does not know and PbeFailed when decryption fails,
 * which for CBC ciphers almost always means a wrong password; callers turn both into AgentErrors.
 */
import { AsnConvert, AsnProp, AsnPropTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { createDecipheriv, createHash, pbkdf2Sync, scryptSync } from 'node:crypto';
import { rc2CbcDecrypt, rc4 } from './legacy-ciphers.js';

export class PbeUnsupported extends Error {}
export class PbeFailed extends Error {}

/**
 * A password in the two encodings PKCS#5/#12 use. PBES2 feeds PBKDF2 the UTF-8 bytes; the PKCS#12 KDF
 * wants a NUL-terminated big-endian BMPString, except that an absent password is zero bytes (OpenSSL
 * writes bundles either way, so the PKCS#12 reader tries both for an empty password).
 */
export interface PasswordBytes {
  utf8: Buffer;
  bmp: Buffer;
}

export function passwordBytes(password: string | null): PasswordBytes {
  if (password === null) return { utf8: Buffer.alloc(0), bmp: Buffer.alloc(0) };
  const le = Buffer.from(password, 'utf16le');
  const bmp = Buffer.alloc(le.length + 2);
  for (let i = 0; i < le.length; i += 2) {
    bmp[i] = le[i + 1]!;
    bmp[i + 1] = le[i]!;
  }
  return { utf8: Buffer.from(password, 'utf8'), bmp };
}

// ---- ASN.1 parameter types (RFC 8018, RFC 7914, RFC 7292) ----

class Pbes2Params {
  @AsnProp({ type: AlgorithmIdentifier }) keyDerivationFunc = new AlgorithmIdentifier();
  @AsnProp({ type: AlgorithmIdentifier }) encryptionScheme = new AlgorithmIdentifier();
}

class Pbkdf2Params {
  @AsnProp({ type: OctetString }) salt = new OctetString();
  @AsnProp({ type: AsnPropTypes.Integer }) iterationCount = 0;
  @AsnProp({ type: AsnPropTypes.Integer, optional: true }) keyLength?: number;
  @AsnProp({ type: AlgorithmIdentifier, optional: true }) prf?: AlgorithmIdentifier;
}

class ScryptParams {
  @AsnProp({ type: OctetString }) salt = new OctetString();
  @AsnProp({ type: AsnPropTypes.Integer }) costParameter = 0;
  @AsnProp({ type: AsnPropTypes.Integer }) blockSize = 0;
  @AsnProp({ type: AsnPropTypes.Integer }) parallelizationParameter = 0;
  @AsnProp({ type: AsnPropTypes.Integer, optional: true }) keyLength?: number;
}

export class Pkcs12PbeParams {
  @AsnProp({ type: OctetString }) salt = new OctetString();
  @AsnProp({ type: AsnPropTypes.Integer }) iterations = 0;
}

class Rc2CbcParams {
  @AsnProp({ type: AsnPropTypes.Integer, optional: true }) rc2ParameterVersion?: number;
  @AsnProp({ type: OctetString }) iv = new OctetString();
}

const OID = {
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  scrypt: '1.3.6.1.4.1.11591.4.11',
  rc2Cbc: '1.2.840.113549.3.2',
  desEde3Cbc: '1.2.840.113549.3.7',
  desCbc: '1.3.14.3.2.7',
  aes128Cbc: '2.16.840.1.101.3.4.1.2',
  aes192Cbc: '2.16.840.1.101.3.4.1.22',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
} as const;

const PRF_HASHES: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
  '1.2.840.113549.2.12': 'sha512-224',
  '1.2.840.113549.2.13': 'sha512-256',
};

/** Digest OIDs as a PKCS#12 MacData names them. */
export const DIGEST_HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.5': 'sha512-224',
  '2.16.840.1.101.3.4.2.6': 'sha512-256',
};

interface Pkcs12Pbe {
  name: string;
  keyLength: number;
  /** 0 for the stream cipher RC4. */
  ivLength: number;
  decrypt(key: Buffer, iv: Buffer, data: Buffer): Buffer;
}

const PKCS12_PBES: Record<string, Pkcs12Pbe> = {
  '1.2.840.113549.1.12.1.1': { name: 'pbeWithSHAAnd128BitRC4', keyLength: 16, ivLength: 0, decrypt: (k, _iv, d) => rc4(k, d) },
  '1.2.840.113549.1.12.1.2': { name: 'pbeWithSHAAnd40BitRC4', keyLength: 5, ivLength: 0, decrypt: (k, _iv, d) => rc4(k, d) },
  '1.2.840.113549.1.12.1.3': {
    name: 'pbeWithSHAAnd3-KeyTripleDES-CBC',
    keyLength: 24,
    ivLength: 8,
    decrypt: (k, iv, d) => nodeDecrypt('des-ede3-cbc', k, iv, d),
  },
  '1.2.840.113549.1.12.1.4': {
    name: 'pbeWithSHAAnd2-KeyTripleDES-CBC',
    keyLength: 16,
    ivLength: 8,
    decrypt: (k, iv, d) => nodeDecrypt('des-ede-cbc', k, iv, d),
  },
  '1.2.840.113549.1.12.1.5': {
    name: 'pbeWithSHAAnd128BitRC2-CBC',
    keyLength: 16,
    ivLength: 8,
    decrypt: (k, iv, d) => rc2CbcDecrypt(k, 128, iv, d),
  },
  '1.2.840.113549.1.12.1.6': {
    name: 'pbeWithSHAAnd40BitRC2-CBC',
    keyLength: 5,
    ivLength: 8,
    decrypt: (k, iv, d) => rc2CbcDecrypt(k, 40, iv, d),
  },
};

const HASH_BLOCK_BYTES: Record<string, number> = {
  sha1: 64,
  sha224: 64,
  sha256: 64,
  sha384: 128,
  sha512: 128,
  'sha512-224': 128,
  'sha512-256': 128,
};

/**
 * RFC 7292 appendix B.2. `id` is 1 for a key, 2 for an IV, 3 for a MAC key. `password` is the BMP
 * encoding from passwordBytes.
 */
export function pkcs12Kdf(hash: string, password: Buffer, salt: Buffer, iterations: number, id: 1 | 2 | 3, length: number): Buffer {
  const v = HASH_BLOCK_BYTES[hash];
  if (v === undefined) throw new PbeUnsupported(`hash ${hash} for the PKCS#12 key derivation`);
  const u = createHash(hash).digest().length;
  const d = Buffer.alloc(v, id);
  const repeat = (src: Buffer) => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const i = Buffer.concat([repeat(salt), repeat(password)]);
  const blocks: Buffer[] = [];
  for (let produced = 0; produced < length; produced += u) {
    let a = createHash(hash).update(d).update(i).digest();
    for (let r = 1; r < iterations; r++) a = createHash(hash).update(a).digest();
    blocks.push(a);
    if (produced + u >= length) break;
    // I_j = (I_j + B + 1) mod 2^(8v), with B = A repeated to v bytes.
    const b = Buffer.alloc(v);
    for (let k = 0; k < v; k++) b[k] = a[k % u]!;
    for (let off = 0; off < i.length; off += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[off + k]! + b[k]! + carry;
        i[off + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** A node cipher with PKCS#7 padding; PbeUnsupported when node (OpenSSL 3 default provider) lacks it. */
export function nodeDecrypt(cipher: string, key: Buffer, iv: Buffer, data: Buffer): Buffer {
  let decipher;
  try {
    decipher = createDecipheriv(cipher, key, iv);
  } catch (e) {
    throw new PbeUnsupported(`cipher ${cipher} (${e instanceof Error ? e.message : String(e)})`);
  }
  return Buffer.concat([decipher.update(data), decipher.final()]);
}

/** A readable name for an encryption AlgorithmIdentifier, for messages. */
export function pbeName(alg: AlgorithmIdentifier): string {
  const pkcs12 = PKCS12_PBES[alg.algorithm];
  if (pkcs12) return pkcs12.name;
  if (alg.algorithm === OID.pbes2) return 'PBES2';
  return alg.algorithm;
}

/**
 * Decrypts `data` encrypted under `alg`. Throws PbeUnsupported for unknown algorithms or parameters
 * and PbeFailed when the cipher rejects the result (bad padding).
 */
export function decryptPbe(alg: AlgorithmIdentifier, data: Buffer, password: PasswordBytes): Buffer {
  const pkcs12 = PKCS12_PBES[alg.algorithm];
  if (pkcs12) {
    if (!alg.parameters) throw new PbeUnsupported(`${pkcs12.name} without parameters`);
    const params = AsnConvert.parse(alg.parameters, Pkcs12PbeParams);
    const salt = Buffer.from(params.salt.buffer);
    const key = pkcs12Kdf('sha1', password.bmp, salt, params.iterations, 1, pkcs12.keyLength);
    const iv = pkcs12.ivLength ? pkcs12Kdf('sha1', password.bmp, salt, params.iterations, 2, pkcs12.ivLength) : Buffer.alloc(0);
    return failAsPbeFailed(() => pkcs12.decrypt(key, iv, data));
  }
  if (alg.algorithm === OID.pbes2) {
    if (!alg.parameters) throw new PbeUnsupported('PBES2 without parameters');
    const params = AsnConvert.parse(alg.parameters, Pbes2Params);
    const scheme = encryptionScheme(params.encryptionScheme);
    const key = deriveKey(params.keyDerivationFunc, password.utf8, scheme.keyLength);
    return failAsPbeFailed(() => scheme.decrypt(key, data));
  }
  throw new PbeUnsupported(`encryption algorithm ${alg.algorithm}`);
}

function failAsPbeFailed(f: () => Buffer): Buffer {
  try {
    return f();
  } catch (e) {
    if (e instanceof PbeUnsupported) throw e;
    throw new PbeFailed('decryption failed', { cause: e });
  }
}

interface Scheme {
  /** Undefined when the KDF's own keyLength must say (RC2). */
  keyLength: number | undefined;
  decrypt(key: Buffer, data: Buffer): Buffer;
}

function encryptionScheme(alg: AlgorithmIdentifier): Scheme {
  const ivParam = () => {
    if (!alg.parameters) throw new PbeUnsupported(`cipher ${alg.algorithm} without an IV`);
    return Buffer.from(AsnConvert.parse(alg.parameters, OctetString).buffer);
  };
  const node = (cipher: string, keyLength: number): Scheme => {
    const iv = ivParam();
    return { keyLength, decrypt: (key, data) => nodeDecrypt(cipher, key, iv, data) };
  };
  switch (alg.algorithm) {
    case OID.aes128Cbc:
      return node('aes-128-cbc', 16);
    case OID.aes192Cbc:
      return node('aes-192-cbc', 24);
    case OID.aes256Cbc:
      return node('aes-256-cbc', 32);
    case OID.desEde3Cbc:
      return node('des-ede3-cbc', 24);
    case OID.desCbc:
      return node('des-cbc', 8);
    case OID.rc2Cbc: {
      if (!alg.parameters) throw new PbeUnsupported('RC2-CBC without parameters');
      const p = AsnConvert.parse(alg.parameters, Rc2CbcParams);
      const iv = Buffer.from(p.iv.buffer);
      // RFC 8018 B.2.3: the version encodes the effective key size; absent means 32 bits.
      const v = p.rc2ParameterVersion;
      const bits = v === undefined ? 32 : v === 160 ? 40 : v === 120 ? 64 : v === 58 ? 128 : v >= 256 ? v : undefined;
      if (bits === undefined) throw new PbeUnsupported(`RC2 parameter version ${v}`);
      return { keyLength: undefined, decrypt: (key, data) => rc2CbcDecrypt(key, bits, iv, data) };
    }
    default:
      throw new PbeUnsupported(`PBES2 cipher ${alg.algorithm}`);
  }
}

function deriveKey(kdf: AlgorithmIdentifier, password: Buffer, schemeKeyLength: number | undefined): Buffer {
  if (!kdf.parameters) throw new PbeUnsupported(`key derivation ${kdf.algorithm} without parameters`);
  if (kdf.algorithm === OID.pbkdf2) {
    const p = AsnConvert.parse(kdf.parameters, Pbkdf2Params);
    const hash = p.prf ? PRF_HASHES[p.prf.algorithm] : 'sha1';
    if (!hash) throw new PbeUnsupported(`PBKDF2 pseudo-random function ${p.prf?.algorithm}`);
    const length = p.keyLength ?? schemeKeyLength ?? 16;
    return pbkdf2Sync(password, Buffer.from(p.salt.buffer), p.iterationCount, length, hash);
  }
  if (kdf.algorithm === OID.scrypt) {
    const p = AsnConvert.parse(kdf.parameters, ScryptParams);
    const length = p.keyLength ?? schemeKeyLength ?? 16;
    const N = p.costParameter;
    const r = p.blockSize;
    // node refuses parameters that need more than maxmem; allow what the parameters ask for.
    const maxmem = 128 * N * r * 2 + 1024 * 1024;
    try {
      return scryptSync(password, Buffer.from(p.salt.buffer), length, { N, r, p: p.parallelizationParameter, maxmem });
    } catch (e) {
      throw new PbeUnsupported(`scrypt parameters N=${N} r=${r} p=${p.parallelizationParameter} (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  throw new PbeUnsupported(`key derivation function ${kdf.algorithm}`);
}
