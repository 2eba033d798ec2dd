import { expect } from 'chai';
import { makePki } from './pki.js';

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
