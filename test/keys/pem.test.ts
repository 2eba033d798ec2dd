import { expect } from 'chai';
import { looksLikePem, splitPem } from '../../src/keys/pem.js';

describe('PEM framing', () => {
  it('splits blocks in order with their labels and decoded bodies', () => {
    const text =
      'junk before\n-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n' +
      '-----BEGIN CERTIFICATE-----\r\nAQID\r\nBA==\r\n-----END CERTIFICATE-----\r\n';
    const blocks = splitPem(text);
    expect(blocks.map((b) => b.label)).to.deep.equal(['EC PARAMETERS', 'CERTIFICATE']);
    expect(blocks[1]?.der.toString('hex')).to.equal('01020304');
  });

  it('reads RFC 1421 headers of legacy encrypted keys apart from the body', () => {
    const text =
      '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\nAQID\n-----END RSA PRIVATE KEY-----\n';
    const [block] = splitPem(text);
    expect(block?.headers).to.deep.equal({ 'Proc-Type': '4,ENCRYPTED', 'DEK-Info': 'AES-256-CBC,00112233445566778899AABBCCDDEEFF' });
    expect(block?.der.toString('hex')).to.equal('010203');
  });

  it('drops blocks whose body is not base64 or whose END label does not match', () => {
    const text = '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n-----BEGIN A-----\nAQ==\n-----END B-----\n';
    expect(splitPem(text)).to.deep.equal([]);
  });

  it('reads a block whose line breaks were turned into spaces (PEM passed through a variable)', () => {
    const [block] = splitPem('-----BEGIN CERTIFICATE----- AQID BA== -----END CERTIFICATE-----');
    expect(block?.der.toString('hex')).to.equal('01020304');
  });

  it('tells PEM text from binary DER', () => {
    expect(looksLikePem(Buffer.from('x\n-----BEGIN CERTIFICATE-----\n'))).to.equal(true);
    expect(looksLikePem(Buffer.from([0x30, 0x82, 0x01, 0x00]))).to.equal(false);
  });
});
