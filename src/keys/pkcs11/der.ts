/**
 * The few DER pieces a token signature needs around it: the PKCS#1 DigestInfo for SHA-256 (for
 * tokens that only offer raw CKM_RSA_PKCS), the conversion of a PKCS#11 ECDSA signature (raw r||s)
 * into the DER SEQUENCE{r,s} CreateSession expects, and the curve named by CKA_EC_PARAMS. Pure.
 */

/** DER prefix of DigestInfo{ AlgorithmIdentifier{sha256, NULL}, OCTET STRING(32) } (RFC 8017 §9.2). */
const SHA256_DIGEST_INFO_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');

export function sha256DigestInfo(hash: Buffer): Buffer {
  if (hash.length !== 32) throw new RangeError(`a SHA-256 hash is 32 bytes, got ${hash.length}`);
  return Buffer.concat([SHA256_DIGEST_INFO_PREFIX, hash]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function derInteger(unsigned: Buffer): Buffer {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  let body = unsigned.subarray(i);
  if (body.length === 0) body = Buffer.from([0]);
  // A set top bit would read as negative: prepend a zero byte.
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return Buffer.concat([Buffer.from([0x02]), derLength(body.length), body]);
}

/** Raw r||s (both halves the curve's size) → DER SEQUENCE{INTEGER r, INTEGER s}. */
export function ecdsaRawToDer(raw: Buffer): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new RangeError(`a raw ECDSA signature has two equal halves, got ${raw.length} bytes`);
  const half = raw.length / 2;
  const body = Buffer.concat([derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half))]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

const CURVES: Record<string, string> = {
  '06082a8648ce3d030107': 'P-256',
  '06052b81040022': 'P-384',
  '06052b81040023': 'P-521',
};

/** The curve of a CKA_EC_PARAMS value (a DER OID), or undefined for curves this agent does not name. */
export function curveOfEcParams(params: Buffer | undefined): string | undefined {
  return params ? CURVES[params.toString('hex')] : undefined;
}
