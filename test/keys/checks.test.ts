import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { expect } from 'chai';
import { X509Certificate, sign, type KeyObject } from 'node:crypto';
import { checkChain, checkKeyMatches, checkServiceRules, listProblems } from '../../src/keys/checks.js';
import { describeCertificate } from '../../src/keys/certificates.js';
import { loadSigner } from '../../src/keys/load.js';
import { algorithmForKeyType, type Signer } from '../../src/keys/signer.js';
import { AgentError } from '../../src/errors.js';
import { ManualClock } from '../../src/time/clock.js';
import { issue, writePair, type Issued } from '../helpers/pki.js';
import { resign, thrown, write, useKeyFixtures } from './fixtures.js';

/** A Signer that, like a token, exposes no public key: checks must sign a probe. */
function tokenLike(cert: X509Certificate, key: KeyObject, chain: X509Certificate[] = []): Signer {
  const algorithm = algorithmForKeyType(key.asymmetricKeyType);
  if (!algorithm) throw new Error('test bug: unsupported key');
  return {
    certificate: cert,
    chain,
    algorithm,
    description: 'pkcs11:token=test;object=key',
    sign: async (data) => sign('sha256', data, key),
    close: async () => {},
  };
}

describe('certificate and key checks', () => {
  const { tmp, rsa, ec } = useKeyFixtures();

  async function load(leaf: Issued, chain: Issued[] = [], clock?: ManualClock) {
    const files = writePair(tmp.dir, 'host', leaf, chain);
    return { files, signer: () => loadSigner({ ...files }, clock ? { clock } : {}) };
  }

  describe('validity', () => {
    it('passes a certificate in date with its chain, and the signer signs', async () => {
      const { signer } = await load(ec().leaf, [ec().intermediate]);
      const s = await signer();
      expect(s.chain.map((c) => c.subject)).to.deep.equal([ec().intermediate.nodeCert.subject]);
    });

    it('fails with CERTIFICATE_EXPIRED giving the file, the date and the fix', async () => {
      const leaf = await issue({
        name: 'expired.example.test',
        kind: 'ec',
        issuer: ec().intermediate,
        notBefore: new Date('2025-01-01T00:00:00Z'),
        notAfter: new Date('2026-01-01T00:00:00Z'),
      });
      const { files, signer } = await load(leaf, [ec().intermediate], new ManualClock(Date.parse('2026-06-01T00:00:00Z')));
      const e = (await thrown(signer)) as AgentError;
      expect(e.code).to.equal('CERTIFICATE_EXPIRED');
      expect(e.describe()).to.equal(`certificate ${files.certificate} expired 2026-01-01T00:00:00Z — renew it or point certificate: at the new file`);
    });

    it('reads "now" from the injected clock: a valid certificate fails once the clock passes notAfter', async () => {
      const clock = new ManualClock(Date.now());
      const { signer } = await load(ec().leaf, [], clock);
      await signer();
      clock.set(ec().leaf.cert.notAfter.getTime() + 1000);
      expect((await thrown(signer)).code).to.equal('CERTIFICATE_EXPIRED');
    });

    it('fails with CERTIFICATE_NOT_YET_VALID and a hint about the clock', async () => {
      const clock = new ManualClock(ec().leaf.cert.notBefore.getTime() - 60_000);
      const { files, signer } = await load(ec().leaf, [], clock);
      const e = await thrown(signer);
      expect(e.code).to.equal('CERTIFICATE_NOT_YET_VALID');
      expect(e.message).to.contain(files.certificate).and.contain('is not valid until');
      expect(e.hint).to.contain('clock');
    });
  });

  describe('what the service rejects (CERTIFICATE_REJECTED)', () => {
    const cases: [string, () => Promise<Issued | { certPem: string; base: Issued }>, string][] = [
      ['an X.509 v1 certificate', async () => ({ certPem: resign(rsa().leaf, rsa().intermediate.privateKey, { v1: true }), base: rsa().leaf }), 'is an X.509 v1 certificate'],
      ['a CA certificate as the leaf', () => issue({ name: 'ca-leaf', kind: 'ec', ca: true, issuer: ec().intermediate, keyUsages: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign }), 'is a CA certificate (basicConstraints CA:TRUE)'],
      ['a keyUsage without digitalSignature', () => issue({ name: 'ku', kind: 'ec', issuer: ec().intermediate, keyUsages: x509.KeyUsageFlags.keyAgreement }), 'has a keyUsage without digitalSignature'],
      ['no keyUsage extension at all', () => issue({ name: 'noku', kind: 'ec', issuer: ec().intermediate, noKeyUsage: true }), 'has no keyUsage extension'],
      // Re-signed by hand with node:crypto, independently of the issuer in src/pki (which now signs
      // RSA with SHA-1 too), so this case does not rest on the code that builds the other fixtures.
      ['an RSA certificate signed with SHA-1', async () => ({ certPem: resign(rsa().leaf, rsa().intermediate.privateKey, { hash: 'sha1' }), base: rsa().leaf }), 'is signed with SHA-1'],
      ['an EC certificate signed with SHA-1', () => issue({ name: 'sha1ec', kind: 'ec', issuer: ec().intermediate, hash: 'SHA-1' }), 'is signed with SHA-1'],
      ['a certificate signed with MD5', async () => ({ certPem: resign(rsa().leaf, rsa().intermediate.privateKey, { hash: 'md5' }), base: rsa().leaf }), 'is signed with MD5'],
    ];
    for (const [name, make, expected] of cases) {
      it(`rejects ${name}, naming the file and saying why the service would refuse it`, async () => {
        const made = await make();
        const base = 'base' in made ? made.base : made;
        const certificate = write(tmp.dir, 'leaf.pem', made.certPem);
        const privateKey = write(tmp.dir, 'leaf.key', base.keyPem);
        const chain = write(tmp.dir, 'chain.pem', (base.kind === 'rsa' ? rsa() : ec()).intermediate.certPem);
        const e = await thrown(() => loadSigner({ certificate, privateKey, intermediates: chain }));
        expect(e.code).to.equal('CERTIFICATE_REJECTED');
        expect(e.message).to.contain(`certificate ${certificate} ${expected}`).and.contain('IAM Roles Anywhere would reject it');
        expect(e.hint, 'a hint says how to fix it').to.be.a('string').and.not.equal('');
      });
    }

    it('accepts a certificate signed with SHA-384', async () => {
      const leaf = await issue({ name: 'sha384', kind: 'ec', issuer: ec().intermediate, hash: 'SHA-384' });
      expect(() => checkServiceRules(leaf.nodeCert, 'x.pem')).not.to.throw();
    });
  });

  describe('key match', () => {
    it('fails with KEY_MISMATCH naming both files when the key belongs to another certificate', async () => {
      const certificate = write(tmp.dir, 'a.crt', ec().leaf.certPem);
      const privateKey = write(tmp.dir, 'b.key', ec().directLeaf.keyPem);
      const e = await thrown(() => loadSigner({ certificate, privateKey }));
      expect(e.code).to.equal('KEY_MISMATCH');
      expect(e.message).to.equal(`private key ${privateKey} does not match certificate ${certificate}`);
    });

    for (const kind of ['rsa', 'ec'] as const) {
      it(`proves a match for a signer without a public key by signing a probe (${kind})`, async () => {
        const p = kind === 'rsa' ? rsa() : ec();
        await checkKeyMatches(tokenLike(p.leaf.nodeCert, p.leaf.privateKey), 'cert.pem');
        const e = await thrown(() => checkKeyMatches(tokenLike(p.leaf.nodeCert, p.directLeaf.privateKey), 'cert.pem'));
        expect([e.code, e.message]).to.deep.equal(['KEY_MISMATCH', 'private key pkcs11:token=test;object=key does not match certificate cert.pem']);
      });
    }

    it('reports a probe signed with a key of another type as KEY_MISMATCH', async () => {
      const e = await thrown(() => checkKeyMatches(tokenLike(rsa().leaf.nodeCert, ec().leaf.privateKey), 'cert.pem'));
      expect(e.code).to.equal('KEY_MISMATCH');
    });
  });

  describe('chain (CHAIN_INVALID)', () => {
    let deep: { root: Issued; upper: Issued; lower: Issued; leaf: Issued };
    before(async () => {
      const root = await issue({ name: 'Deep Root', kind: 'ec', ca: true });
      const upper = await issue({ name: 'Deep Upper CA', kind: 'ec', ca: true, issuer: root });
      const lower = await issue({ name: 'Deep Lower CA', kind: 'ec', ca: true, issuer: upper });
      const leaf = await issue({ name: 'deep-leaf', kind: 'ec', issuer: lower });
      deep = { root, upper, lower, leaf };
    });

    it('accepts intermediates in issuer order, root included', async () => {
      const { signer } = await load(deep.leaf, [deep.lower, deep.upper, deep.root]);
      expect((await signer()).chain).to.have.length(3);
    });

    it('rejects intermediates in the wrong order, naming the intermediates file', async () => {
      const { files, signer } = await load(deep.leaf, [deep.upper, deep.lower]);
      const e = await thrown(signer);
      expect(e.code).to.equal('CHAIN_INVALID');
      expect(e.message).to.equal(
        `${files.intermediates}: intermediate 1 (CN=Deep Upper CA) is not the issuer of certificate ${files.certificate}, which was issued by CN=Deep Lower CA`,
      );
    });

    it('rejects an intermediate with the right name but another key', async () => {
      const impostor = await issue({ name: 'Deep Lower CA', kind: 'ec', ca: true, issuer: deep.upper });
      const { files, signer } = await load(deep.leaf, [impostor, deep.upper]);
      const e = await thrown(signer);
      expect(e.code).to.equal('CHAIN_INVALID');
      expect(e.message).to.contain(files.intermediates!).and.contain('does not verify with the key of intermediate 1');
    });

    it('rejects an intermediate further up that did not sign the one below it', async () => {
      const { files, signer } = await load(deep.leaf, [deep.lower, ec().intermediate]);
      const e = await thrown(signer);
      expect(e.code).to.equal('CHAIN_INVALID');
      expect(e.message).to.contain(files.intermediates!).and.contain('intermediate 2 (CN=Test Intermediate ec) is not the issuer of intermediate 1 (CN=Deep Lower CA)');
    });

    it('rejects an intermediate that is not a CA', async () => {
      const notCa = await issue({
        name: 'Not A CA',
        kind: 'ec',
        ca: false,
        issuer: ec().root,
        keyUsages: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign,
      });
      const leaf = await issue({ name: 'under-not-ca', kind: 'ec', issuer: notCa });
      const { files, signer } = await load(leaf, [notCa]);
      const e = await thrown(signer);
      expect([e.code, e.message]).to.deep.equal(['CHAIN_INVALID', `${files.intermediates}: intermediate 1 (CN=Not A CA) is not a CA certificate (no basicConstraints CA:TRUE)`]);
    });

    it('rejects an expired intermediate, with its date', async () => {
      const old = await issue({
        name: 'Old CA',
        kind: 'ec',
        ca: true,
        issuer: ec().root,
        notBefore: new Date('2025-01-01T00:00:00Z'),
        notAfter: new Date('2026-02-03T04:05:06Z'),
      });
      const leaf = await issue({ name: 'under-old', kind: 'ec', issuer: old });
      const { files, signer } = await load(leaf, [old]);
      const e = await thrown(signer);
      expect([e.code, e.message]).to.deep.equal(['CHAIN_INVALID', `${files.intermediates}: intermediate 1 (CN=Old CA) expired 2026-02-03T04:05:06Z`]);
    });

    it('rejects more than five intermediates', () => {
      const six = Array.from({ length: 6 }, () => ec().intermediate.nodeCert);
      const e = (() => {
        try {
          checkChain(ec().leaf.nodeCert, six, Date.now(), { certificate: 'leaf.pem', intermediates: 'chain.pem' });
        } catch (err) {
          return err as AgentError;
        }
        throw new Error('expected CHAIN_INVALID');
      })();
      expect([e.code, e.message]).to.deep.equal(['CHAIN_INVALID', 'chain.pem: 6 intermediate certificates; IAM Roles Anywhere accepts at most 5']);
    });

    it('names the certificate file when the chain came from extra blocks in it', async () => {
      const certificate = write(tmp.dir, 'fullchain.pem', deep.leaf.certPem + ec().intermediate.certPem);
      const privateKey = write(tmp.dir, 'k.pem', deep.leaf.keyPem);
      const e = await thrown(() => loadSigner({ certificate, privateKey }));
      expect(e.code).to.equal('CHAIN_INVALID');
      expect(e.message).to.match(new RegExp(`^the intermediates in ${certificate}: `));
    });
  });

  it('lists every problem at once for validate', async () => {
    const leaf = await issue({ name: 'many-problems', kind: 'ec', issuer: ec().intermediate, hash: 'SHA-1', notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2026-01-01T00:00:00Z') });
    const signer = tokenLike(leaf.nodeCert, ec().directLeaf.privateKey, [ec().root.nodeCert]);
    const problems = await listProblems(signer, Date.parse('2026-06-01T00:00:00Z'), { certificate: 'c.pem' });
    expect(problems.map((p) => p.code)).to.deep.equal(['CERTIFICATE_EXPIRED', 'CERTIFICATE_REJECTED', 'KEY_MISMATCH', 'CHAIN_INVALID']);
  });

  it('describes a certificate with subject, serial in hex and decimal, and expiry', async () => {
    const leaf = await issue({ name: 'described', kind: 'ec', serialHex: '0a1b', notAfter: new Date('2030-05-06T07:08:09Z') });
    const d = describeCertificate(leaf.nodeCert);
    expect(d).to.include({ subject: 'CN=described', serialHex: '0a1b', serialDecimal: '2587' });
    expect(d.notAfter.toISOString()).to.equal('2030-05-06T07:08:09.000Z');
    expect(d.text).to.equal('CN=described, serial 0a1b (2587), expires 2030-05-06T07:08:09Z');
  });
});
