import { expect } from 'chai';
import { createHash, generateKeyPairSync, publicDecrypt, constants, sign, verify } from 'node:crypto';
import { curveOfEcParams, ecdsaRawToDer, sha256DigestInfo } from '../../../src/keys/pkcs11/der.js';

describe('DER pieces around token signatures', () => {
  for (const curve of ['P-256', 'P-384', 'P-521'] as const) {
    it(`turns raw r||s ${curve} signatures into DER that node:crypto verifies (50 signatures, leading zeros and high bits included)`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      for (let i = 0; i < 50; i++) {
        const data = Buffer.from(`message ${i}`);
        const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        const der = ecdsaRawToDer(raw);
        expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, der), `signature ${i}`).to.equal(true);
      }
    });
  }

  it('writes minimal integers: a zero-led half loses its zeros, a high-bit half gains one', () => {
    const raw = Buffer.concat([Buffer.from([0x00, 0x00, 0x7f, 0x01]), Buffer.from([0x80, 0x00, 0x00, 0x01])]);
    expect(ecdsaRawToDer(raw).toString('hex')).to.equal('300b' + '02027f01' + '020500' + '80000001');
  });

  it('uses a long-form length when the sequence exceeds 127 bytes (P-521)', () => {
    const raw = Buffer.alloc(132, 0xff);
    const der = ecdsaRawToDer(raw);
    // Two 67-byte INTEGERs (a zero byte before each 0xff half) with 2-byte headers: 138 = 0x8a.
    expect(der.subarray(0, 3).toString('hex')).to.equal('30818a');
    expect(der.length).to.equal(3 + 138);
  });

  it('refuses a raw signature with unequal halves', () => {
    expect(() => ecdsaRawToDer(Buffer.alloc(63))).to.throw(RangeError);
  });

  it('builds the DigestInfo that an RSA PKCS#1 v1.5 SHA-256 signature carries', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const data = Buffer.from('string to sign');
    const signature = sign('sha256', data, privateKey);
    const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
    expect(sha256DigestInfo(createHash('sha256').update(data).digest()).toString('hex')).to.equal(recovered.toString('hex'));
  });

  it('names the NIST curves from CKA_EC_PARAMS', () => {
    expect([
      curveOfEcParams(Buffer.from('06082a8648ce3d030107', 'hex')),
      curveOfEcParams(Buffer.from('06052b81040022', 'hex')),
      curveOfEcParams(Buffer.from('06052b81040023', 'hex')),
      curveOfEcParams(Buffer.from('0605', 'hex')),
      curveOfEcParams(undefined),
    ]).to.deep.equal(['P-256', 'P-384', 'P-521', undefined, undefined]);
  });
});
