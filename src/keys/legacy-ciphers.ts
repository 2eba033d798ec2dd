/**
 * RC2-CBC (RFC 2268) and RC4 decryption, in plain TypeScript. OpenSSL 3 moved both to its legacy
 * provider, which node does not load, yet `openssl pkcs12 -legacy` and older Windows/Java exports still
 * encrypt certificate bags with 40-bit RC2. Only decryption is needed: the agent never writes these.
 */

const PITABLE = Buffer.from(
  [
    'd978f9c419ddb5ed28e9fd794aa0d89d',
    'c67e37832b76538e624c6488448bfba2',
    '179a59f587b34f1361456d8d09817d32',
    'bd8f40eb86b77b0bf09521225c6b4e82',
    '54d66593ce60b21c7356c014a78cf1dc',
    '1275ca1f3bbee4d1423dd430a33cb626',
    '6fbf0eda4669075727f21d9bbc944303',
    'f811c7f690ef3ee706c3d52fc8661ed7',
    '08e8eade8052eef784aa72ac354d6a2a',
    '961ad2715a1549744b9fd05e0418a4ec',
    'c2e0416e0f51cbcc2491af50a1f47039',
    '997c3a8523b8b47afc02365b25559731',
    '2d5dfa98e38a92ae05df2910676cbac9',
    'd300e6cfe19ea82c6316013f58e289a9',
    '0d38341bab33ffb0bb480c5fb9b1cd2e',
    'c5f3db47e5a59c770aa62068fe7fc1ad',
  ].join(''),
  'hex',
);

/** RFC 2268 section 2: 64 16-bit subkeys from a key of 1..128 bytes and an effective key size in bits. */
export function rc2KeySchedule(key: Buffer, effectiveBits: number): Uint16Array {
  const t = key.length;
  if (t < 1 || t > 128) throw new Error(`RC2 key length ${t} is out of range`);
  if (effectiveBits < 1 || effectiveBits > 1024) throw new Error(`RC2 effective key bits ${effectiveBits} out of range`);
  const l = new Uint8Array(128);
  l.set(key);
  const t8 = Math.ceil(effectiveBits / 8);
  const tm = 0xff >> (8 * t8 - effectiveBits);
  for (let i = t; i < 128; i++) l[i] = PITABLE[(l[i - 1]! + l[i - t]!) & 0xff]!;
  l[128 - t8] = PITABLE[l[128 - t8]! & tm]!;
  for (let i = 127 - t8; i >= 0; i--) l[i] = PITABLE[l[i + 1]! ^ l[i + t8]!]!;
  const k = new Uint16Array(64);
  for (let i = 0; i < 64; i++) k[i] = l[2 * i]! | (l[2 * i + 1]! << 8);
  return k;
}

const SHIFTS = [1, 2, 3, 5] as const;

function decryptBlock(k: Uint16Array, input: Buffer, offset: number, out: Buffer, outOffset: number): void {
  const r = [0, 1, 2, 3].map((i) => input.readUInt16LE(offset + 2 * i));
  let j = 63;
  const rmix = () => {
    for (let i = 3; i >= 0; i--) {
      const s = SHIFTS[i]!;
      let v = r[i]!;
      v = ((v >>> s) | (v << (16 - s))) & 0xffff;
      const a = r[(i + 3) & 3]!;
      const b = r[(i + 2) & 3]!;
      const c = r[(i + 1) & 3]!;
      r[i] = (v - k[j]! - (a & b) - (~a & c)) & 0xffff;
      j--;
    }
  };
  const rmash = () => {
    for (let i = 3; i >= 0; i--) r[i] = (r[i]! - k[r[(i + 3) & 3]! & 63]!) & 0xffff;
  };
  for (let n = 0; n < 5; n++) rmix();
  rmash();
  for (let n = 0; n < 6; n++) rmix();
  rmash();
  for (let n = 0; n < 5; n++) rmix();
  for (let i = 0; i < 4; i++) out.writeUInt16LE(r[i]!, outOffset + 2 * i);
}

/** Decrypts one RC2 block without chaining (for the RFC 2268 test vectors). */
export function rc2DecryptBlock(key: Buffer, effectiveBits: number, block: Buffer): Buffer {
  const out = Buffer.alloc(8);
  decryptBlock(rc2KeySchedule(key, effectiveBits), block, 0, out, 0);
  return out;
}

/**
 * RC2-CBC with PKCS#7 padding removed. Throws on a length that is not whole blocks or on bad padding,
 * which is what a wrong password almost always produces.
 */
export function rc2CbcDecrypt(key: Buffer, effectiveBits: number, iv: Buffer, data: Buffer): Buffer {
  if (iv.length !== 8) throw new Error('RC2-CBC needs an 8-byte IV');
  if (data.length === 0 || data.length % 8 !== 0) throw new Error('RC2-CBC data is not a whole number of blocks');
  const k = rc2KeySchedule(key, effectiveBits);
  const out = Buffer.alloc(data.length);
  let prev = iv;
  for (let off = 0; off < data.length; off += 8) {
    decryptBlock(k, data, off, out, off);
    for (let i = 0; i < 8; i++) out[off + i]! ^= prev[i]!;
    prev = data.subarray(off, off + 8);
  }
  return stripPkcs7(out, 8);
}

export function stripPkcs7(data: Buffer, blockSize: number): Buffer {
  const pad = data[data.length - 1] ?? 0;
  if (pad < 1 || pad > blockSize || pad > data.length) throw new Error('bad padding');
  for (let i = data.length - pad; i < data.length; i++) if (data[i] !== pad) throw new Error('bad padding');
  return data.subarray(0, data.length - pad);
}

/** RC4 is its own inverse. */
export function rc4(key: Buffer, data: Buffer): Buffer {
  const s = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
  }
  const out = Buffer.alloc(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
    out[n] = data[n]! ^ s[(s[i]! + s[j]!) & 0xff]!;
  }
  return out;
}
