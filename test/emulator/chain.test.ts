import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { parseCertificate, type ParsedCert } from '../../src/emulator/certificate.js';
import { buildChain, checkEndEntity } from '../../src/emulator/chain.js';
import { isServiceError } from '../../src/emulator/service-error.js';
import { generateKeys, issue, type Issued } from '../helpers/pki.js';

const TA = 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/0b5c1a8e-7f3d-4b2a-9c61-1d2e3f4a5b6c';
const p = (i: Issued | { nodeCert: X509Certificate }): ParsedCert => parseCertificate(i.nodeCert.raw);
const reasonOf = (r: unknown): string => (isServiceError(r) ? r.reason : 'ok');

/** A self-signed EC CA with a path length constraint (pki.ts has no knob for it). */
async function rootWithPathLen(pathLen: number): Promise<Issued> {
  const keys = await generateKeys('ec');
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a0b0c',
    name: `CN=PathLen ${pathLen} Root`,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 864e5),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, pathLen, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pem = cert.toString('pem') + '\n';
  return { cert, keys, kind: 'ec', certPem: pem, keyPem: '', nodeCert: new X509Certificate(pem), privateKey: undefined as never };
}

describe('emulator chain rules (pure)', () => {
  let root: Issued;
  const chainOf: Issued[] = [];
  let deepLeaf: Issued;
  const now = (): number => Date.now();

  before(async () => {
    root = await issue({ name: 'Chain Root', kind: 'ec', ca: true });
    let parent = root;
    for (let i = 1; i <= 5; i++) {
      parent = await issue({ name: `Int ${i}`, kind: 'ec', ca: true, issuer: parent });
      chainOf.push(parent);
    }
    deepLeaf = await issue({ name: 'deep leaf', kind: 'ec', issuer: parent });
  });

  it('builds a path through five intermediates, given in any order', () => {
    const path = buildChain(p(deepLeaf), [...chainOf].reverse().map(p), [p(root)], TA, now());
    expect(isServiceError(path) ? path.message : path.map((c) => c.subject)).to.deep.equal([
      'CN=deep leaf',
      'CN=Int 5',
      'CN=Int 4',
      'CN=Int 3',
      'CN=Int 2',
      'CN=Int 1',
      'CN=Chain Root',
    ]);
  });

  it('finds no path when one link in the middle is missing', () => {
    const gap = chainOf.filter((_, i) => i !== 2).map(p);
    expect(reasonOf(buildChain(p(deepLeaf), gap, [p(root)], TA, now()))).to.equal('CHAIN_UNTRUSTED');
  });

  it('accepts an intermediate CA as the trust anchor certificate (the path may stop below the root)', () => {
    const path = buildChain(p(deepLeaf), chainOf.slice(3).map(p), [p(chainOf[2]!)], TA, now());
    expect(isServiceError(path) ? path.reason : path.length).to.equal(4);
  });

  it("enforces the anchor's path length constraint", async () => {
    const r0 = await rootWithPathLen(0);
    const int = await issue({ name: 'Under PathLen 0', kind: 'ec', ca: true, issuer: r0 });
    const leaf = await issue({ name: 'pl leaf', kind: 'ec', issuer: int });
    expect(reasonOf(buildChain(p(leaf), [p(int)], [p(r0)], TA, now()))).to.equal('PATH_LENGTH_EXCEEDED');
    const direct = await issue({ name: 'pl direct', kind: 'ec', issuer: r0 });
    expect(reasonOf(buildChain(p(direct), [], [p(r0)], TA, now())), 'a leaf right under a pathLen 0 root is fine').to.equal('ok');
  });

  it('refuses a path whose anchor certificate has expired', () => {
    const later = root.cert.notAfter.getTime() + 1000;
    const result = buildChain(p(chainOf[0]!), [], [p(root)], TA, later);
    expect(reasonOf(result)).to.equal('CERT_EXPIRED');
    expect(isServiceError(result) && result.message).to.include('trust anchor certificate CN=Chain Root');
  });

  it('checks end-entity rules independently of any chain', async () => {
    expect(reasonOf(checkEndEntity(p(deepLeaf), now()))).to.equal('ok');
    expect(reasonOf(checkEndEntity(p(chainOf[0]!), now())), 'a CA as leaf').to.equal('LEAF_IS_CA');
    expect(reasonOf(checkEndEntity(p(deepLeaf), deepLeaf.cert.notAfter.getTime() + 1)), 'one ms after notAfter').to.equal('CERT_EXPIRED');
    expect(reasonOf(checkEndEntity(p(deepLeaf), deepLeaf.cert.notAfter.getTime())), 'at notAfter itself').to.equal('ok');
  });
});
