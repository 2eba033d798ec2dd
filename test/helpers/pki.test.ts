import { expect } from 'chai';
import { makePki } from './pki.js';
import { requireTools } from './prerequisites.js';

describe('test PKI helper', () => {
  for (const kind of ['rsa', 'ec'] as const) {
    it(`issues a ${kind} chain whose leaf verifies against its intermediate and root`, async () => {
      const pki = await makePki(kind);
      expect(pki.leaf.nodeCert.verify(pki.intermediate.nodeCert.publicKey), 'leaf signed by intermediate').to.equal(true);
      expect(pki.intermediate.nodeCert.verify(pki.root.nodeCert.publicKey), 'intermediate signed by root').to.equal(true);
      expect(pki.directLeaf.nodeCert.verify(pki.root.nodeCert.publicKey), 'direct leaf signed by root').to.equal(true);
      expect(pki.leaf.privateKey.asymmetricKeyType).to.equal(kind);
      expect(pki.leaf.nodeCert.checkPrivateKey(pki.leaf.privateKey)).to.equal(true);
    });
  }
});

describe('test PKI helper: weak signatures', () => {
  for (const kind of ['rsa', 'ec'] as const) {
    it(`really signs a ${kind} certificate with SHA-1 when asked`, async () => {
      const { issue } = await import('./pki.js');
      const root = await issue({ name: 'sha1 root', kind, ca: true });
      const leaf = await issue({ name: 'sha1 leaf', kind, issuer: root, hash: 'SHA-1' });
      const expected = kind === 'rsa' ? 'sha1WithRSAEncryption' : 'ecdsa-with-SHA1';
      const { execFileSync } = await import('node:child_process');
      requireTools('openssl');
      const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: leaf.certPem }).toString();
      expect(text, 'openssl x509 -text').to.include(`Signature Algorithm: ${expected}`);
    });
  }
});
