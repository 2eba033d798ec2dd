import { expect } from 'chai';
import { rc2CbcDecrypt, rc2DecryptBlock, rc4 } from '../../src/keys/legacy-ciphers.js';
import { passwordBytes, pkcs12Kdf } from '../../src/keys/pbe.js';
import { makeTempDir } from '../helpers/tmp.js';
import { openssl, write } from './fixtures.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

describe('legacy ciphers and the PKCS#12 key derivation', () => {
  // RFC 2268 section 5.
  const rc2Vectors: [key: string, bits: number, plain: string, cipher: string][] = [
    ['0000000000000000', 63, '0000000000000000', 'ebb773f993278eff'],
    ['ffffffffffffffff', 64, 'ffffffffffffffff', '278b27e42e2f0d49'],
    ['3000000000000000', 64, '1000000000000001', '30649edf9be7d2c2'],
    ['88', 64, '0000000000000000', '61a8a244adacccf0'],
    ['88bca90e90875a', 64, '0000000000000000', '6ccf4308974c267f'],
    ['88bca90e90875a7f0f79c384627bafb2', 64, '0000000000000000', '1a807d272bbe5db1'],
    ['88bca90e90875a7f0f79c384627bafb2', 128, '0000000000000000', '2269552ab0f85ca6'],
  ];
  for (const [key, bits, plain, cipher] of rc2Vectors) {
    it(`decrypts the RFC 2268 RC2 vector key=${key} bits=${bits}`, () => {
      expect(rc2DecryptBlock(Buffer.from(key, 'hex'), bits, Buffer.from(cipher, 'hex')).toString('hex')).to.equal(plain);
    });
  }

  it('decrypts what openssl encrypts with 40-bit RC2-CBC and rejects bad padding', () => {
    const tmp = makeTempDir();
    try {
      const plain = Buffer.from('a message longer than one RC2 block, to exercise chaining');
      const input = write(tmp.dir, 'in', plain);
      const out = join(tmp.dir, 'out');
      const key = '0102030405';
      const iv = '1122334455667788';
      openssl(['enc', '-provider', 'legacy', '-provider', 'default', '-rc2-40-cbc', '-K', key, '-iv', iv, '-in', input, '-out', out]);
      const data = readFileSync(out);
      expect(rc2CbcDecrypt(Buffer.from(key, 'hex'), 40, Buffer.from(iv, 'hex'), data).toString()).to.equal(plain.toString());
      expect(() => rc2CbcDecrypt(Buffer.from('0102030406', 'hex'), 40, Buffer.from(iv, 'hex'), data)).to.throw('bad padding');
    } finally {
      tmp.cleanup();
    }
  });

  it('encrypts and decrypts the well-known RC4 vectors', () => {
    expect(rc4(Buffer.from('Key'), Buffer.from('Plaintext')).toString('hex')).to.equal('bbf316e8d940af0ad3');
    expect(rc4(Buffer.from('Wiki'), Buffer.from('pedia')).toString('hex')).to.equal('1021bf0420');
  });

  it('encodes passwords as NUL-terminated big-endian BMP, and an absent one as nothing', () => {
    expect(passwordBytes('ab').bmp.toString('hex')).to.equal('006100620000');
    expect(passwordBytes('').bmp.toString('hex')).to.equal('0000');
    expect(passwordBytes(null).bmp.length).to.equal(0);
    expect(passwordBytes('é').utf8.toString('hex')).to.equal('c3a9');
  });

  it('derives PKCS#12 keys as in the published test vector (password "smeg", SHA-1, 1 iteration)', () => {
    // The vector circulated with OpenSSL and BouncyCastle's PKCS#12 KDF tests.
    const salt = Buffer.from('0a58cf64530d823f', 'hex');
    const pw = passwordBytes('smeg').bmp;
    expect(pkcs12Kdf('sha1', pw, salt, 1, 1, 24).toString('hex')).to.equal('8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3');
    expect(pkcs12Kdf('sha1', pw, salt, 1, 2, 8).toString('hex')).to.equal('79993dfe048d3b76');
  });
});
