import { expect } from 'chai';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { classifyKeySource, displayKeySource, isKeyFile, keyHolder } from '../../src/keys/sources/index.js';
import { ecdsaBlobToDer } from '../../src/keys/sources/ssh-agent-protocol.js';

describe('the key-source registry', () => {
  it('classifies every key string in one place: pkcs11: in any case, ssh-agent:, .p12/.pfx, else a file', () => {
    const cases: Record<string, string> = {
      'pkcs11:token=a;object=b': 'pkcs11',
      'PKCS11:token=a': 'pkcs11',
      'Pkcs11:': 'pkcs11',
      'ssh-agent:': 'ssh-agent',
      'ssh-agent:/run/agent.sock': 'ssh-agent',
      '/etc/pki/host.p12': 'pkcs12',
      'bundle.PFX': 'pkcs12',
      '/etc/pki/host.pem': 'file',
      'relative/key.pem': 'file',
    };
    const got = Object.fromEntries(Object.keys(cases).map((v) => [v, classifyKeySource(v).kind]));
    expect(got).to.deep.equal(cases);
  });

  it('says which strings are files (resolved, watched, fingerprinted) and which are not', () => {
    expect(['a.pem', 'b.p12', 'pkcs11:token=x', 'ssh-agent:', undefined].map((v) => isKeyFile(v))).to.deep.equal([true, true, false, false, false]);
  });

  it('shows a pkcs11: URI without its PIN, whatever its case', () => {
    expect(displayKeySource('PKCS11:token=a;pin-value=1234')).to.not.contain('1234');
  });

  it('lets the key-holding source open the signer: the private key first, then the certificate', () => {
    expect(keyHolder({ certificate: 'c.pem', privateKey: 'ssh-agent:' }).kind).to.equal('ssh-agent');
    expect(keyHolder({ certificate: 'pkcs11:token=a', privateKey: 'k.pem' }).kind).to.equal('pkcs11');
    expect(keyHolder({ certificate: 'c.p12' }).kind).to.equal('pkcs12');
  });
});

describe('ssh-agent ECDSA signature blob to DER', () => {
  const mpint = (b: Buffer) => {
    // SSH mpint: minimal two's complement, a leading zero when the high bit is set.
    let v = b;
    while (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) === 0) v = v.subarray(1);
    if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(v.length);
    return Buffer.concat([len, v]);
  };

  it('gives the DER node:crypto verifies, over many signatures (short r/s and high bits included)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (let i = 0; i < 200; i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const blob = Buffer.concat([mpint(raw.subarray(0, 32)), mpint(raw.subarray(32))]);
      const der = ecdsaBlobToDer(blob);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, der), `signature ${i} verifies`).to.equal(true);
    }
  });
});
