import { expect } from 'chai';
import { constants, sign, verify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSigner, signerLoader } from '../../src/keys/load.js';
import { FileSigner } from '../../src/keys/file-signer.js';
import { writePair } from '../helpers/pki.js';
import { openssl, thrown, write, useKeyFixtures } from './fixtures.js';

describe('loadSigner', () => {
  const { tmp, rsa, ec } = useKeyFixtures();

  it('signs with RSA PKCS#1 v1.5 over SHA-256: deterministic, equal to crypto.sign, verified by the certificate key', async () => {
    const files = writePair(tmp.dir, 'rsa', rsa().leaf, [rsa().intermediate]);
    const signer = await loadSigner(files);
    expect(signer.algorithm).to.equal('AWS4-X509-RSA-SHA256');
    const data = Buffer.from('AWS4-X509-RSA-SHA256\n20260101T000000Z\n...');
    const sig = await signer.sign(data);
    const expected = sign('sha256', data, { key: rsa().leaf.privateKey, padding: constants.RSA_PKCS1_PADDING });
    expect(sig.toString('hex')).to.equal(expected.toString('hex'));
    expect(verify('sha256', data, rsa().leaf.nodeCert.publicKey, sig)).to.equal(true);
    await signer.close();
  });

  it('signs with ECDSA over SHA-256 as DER (r,s), verified by the certificate key', async () => {
    const files = writePair(tmp.dir, 'ec', ec().leaf, [ec().intermediate]);
    const signer = await loadSigner(files);
    expect(signer.algorithm).to.equal('AWS4-X509-ECDSA-SHA256');
    const data = Buffer.from('string to sign');
    const sig = await signer.sign(data);
    expect(sig[0], 'a DER SEQUENCE, not raw r||s').to.equal(0x30);
    expect(verify('sha256', data, { key: ec().leaf.nodeCert.publicKey, dsaEncoding: 'der' }, sig)).to.equal(true);
  });

  it('hands a pkcs11: private key to the PKCS#11 source, which names the module it could not load', async () => {
    const files = writePair(tmp.dir, 'ec', ec().leaf);
    const lib = join(tmp.dir, 'no-such-module.so');
    const e = await thrown(() => loadSigner({ ...files, privateKey: 'pkcs11:token=agent;object=host', pkcs11Lib: lib }));
    expect(e.code).to.equal('PKCS11');
    expect(e.message).to.include(`cannot load the PKCS#11 module ${lib}`);
  });

  it('refuses a certificate on a token with the key in a file, naming the key file', async () => {
    const files = writePair(tmp.dir, 'ec', ec().leaf);
    const e = await thrown(() => loadSigner({ ...files, certificate: 'pkcs11:token=agent;object=host' }));
    expect([e.code, e.message]).to.deep.equal(['CONFIG_INVALID', `private key ${files.privateKey} is not a pkcs11: URI`]);
  });

  it('fails with FILE_UNREADABLE naming a missing certificate file', async () => {
    const certificate = join(tmp.dir, 'nope.pem');
    const e = await thrown(() => loadSigner({ certificate, privateKey: write(tmp.dir, 'k.pem', ec().leaf.keyPem) }));
    expect([e.code, e.message]).to.deep.equal(['FILE_UNREADABLE', `cannot read certificate file ${certificate}: no such file`]);
  });

  it('says plainly that a TPM key handle is not supported, pointing to tpm2-pkcs11', async () => {
    const files = writePair(tmp.dir, 'ec', ec().leaf);
    const e = await thrown(() => loadSigner({ ...files, privateKey: 'handle:0x81000001' }));
    expect([e.code, e.message], 'code and message').to.deep.equal(['KEY_INVALID', 'private key "handle:0x81000001" is a TPM key handle, which this agent does not support']);
    expect(e.hint, 'hint').to.equal('put the key on a tpm2-pkcs11 token and name it with a pkcs11: URI; see docs/tpm.md');
  });

  it('says plainly that a TSS2 TPM key file is not supported, pointing to tpm2-pkcs11', async () => {
    const files = writePair(tmp.dir, 'ec', ec().leaf);
    const privateKey = write(tmp.dir, 'tpm.key', '-----BEGIN TSS2 PRIVATE KEY-----\nMIIB\n-----END TSS2 PRIVATE KEY-----\n');
    const e = await thrown(() => loadSigner({ ...files, privateKey }));
    expect([e.code, e.message], 'code and message').to.deep.equal(['KEY_INVALID', `private key file ${privateKey} is a TPM key (TSS2 PRIVATE KEY), which this agent does not support`]);
    expect(e.hint, 'hint').to.equal('put the key on a tpm2-pkcs11 token and name it with a pkcs11: URI; see docs/tpm.md');
  });

  it('reads a DER certificate', async () => {
    const certificate = write(tmp.dir, 'leaf.der', ec().leaf.nodeCert.raw);
    const signer = await loadSigner({ certificate, privateKey: write(tmp.dir, 'k.pem', ec().leaf.keyPem) });
    expect(signer.certificate.raw.equals(ec().leaf.nodeCert.raw)).to.equal(true);
  });

  it('takes extra blocks of the certificate PEM as the chain, in issuer order and without the root', async () => {
    const certificate = write(tmp.dir, 'fullchain.pem', ec().leaf.certPem + ec().root.certPem + ec().intermediate.certPem);
    const signer = await loadSigner({ certificate, privateKey: write(tmp.dir, 'k.pem', ec().leaf.keyPem) });
    expect(signer.certificate.raw.equals(ec().leaf.nodeCert.raw), 'the first block is the leaf').to.equal(true);
    expect(signer.chain.map((c) => c.subject)).to.deep.equal([ec().intermediate.nodeCert.subject]);
  });

  it('lets an intermediates file win over extra blocks in the certificate PEM, sending it as written', async () => {
    const certificate = write(tmp.dir, 'fullchain.pem', ec().leaf.certPem + ec().directLeaf.certPem);
    const intermediates = write(tmp.dir, 'chain.pem', ec().intermediate.certPem + ec().root.certPem);
    const signer = await loadSigner({ certificate, privateKey: write(tmp.dir, 'k.pem', ec().leaf.keyPem), intermediates });
    expect(signer.chain.map((c) => c.subject)).to.deep.equal([ec().intermediate.nodeCert.subject, ec().root.nodeCert.subject]);
  });

  it('uses a private key stored in the certificate PEM when private_key is not set', async () => {
    const certificate = write(tmp.dir, 'combined.pem', ec().leaf.certPem + ec().leaf.keyPem);
    const signer = await loadSigner({ certificate });
    expect(signer.description).to.equal(certificate);
  });

  it('asks for private_key when the certificate PEM holds no key', async () => {
    const certificate = write(tmp.dir, 'c.pem', ec().leaf.certPem);
    const e = await thrown(() => loadSigner({ certificate }));
    expect([e.code, e.message]).to.deep.equal(['ARGUMENT_INVALID', `no private key for certificate ${certificate}`]);
  });

  it('says the files look swapped when the certificate file holds a PEM private key', async () => {
    const key = write(tmp.dir, 'k.pem', ec().leaf.keyPem);
    const cert = write(tmp.dir, 'c.pem', ec().leaf.certPem);
    const e = await thrown(() => loadSigner({ certificate: key, privateKey: cert }));
    expect([e.code, e.message, e.hint]).to.deep.equal([
      'CERTIFICATE_INVALID',
      `certificate file ${key} holds a private key, not a certificate`,
      'did you swap certificate and private_key?',
    ]);
  });

  it('says the files look swapped when the certificate file holds a DER private key', async () => {
    const key = write(tmp.dir, 'k.der', ec().leaf.privateKey.export({ type: 'pkcs8', format: 'der' }));
    const e = await thrown(() => loadSigner({ certificate: key, privateKey: key }));
    expect([e.code, e.hint]).to.deep.equal(['CERTIFICATE_INVALID', 'did you swap certificate and private_key?']);
    expect(e.message).to.contain(key);
  });

  it('recognises a certificate signing request given as the certificate', async () => {
    const key = write(tmp.dir, 'k.pem', ec().leaf.keyPem);
    const csr = join(tmp.dir, 'req.pem');
    openssl(['req', '-new', '-key', key, '-subj', '/CN=req', '-out', csr]);
    const e = await thrown(() => loadSigner({ certificate: csr, privateKey: key }));
    expect([e.code, e.message]).to.deep.equal(['CERTIFICATE_INVALID', `certificate file ${csr} holds a certificate signing request, not a certificate`]);
  });

  it('recognises a PKCS#7 bundle given as the certificate and says how to convert it', async () => {
    const cert = write(tmp.dir, 'c.pem', ec().leaf.certPem);
    const p7 = join(tmp.dir, 'c.p7b');
    openssl(['crl2pkcs7', '-nocrl', '-certfile', cert, '-out', p7]);
    const e = await thrown(() => loadSigner({ certificate: p7, privateKey: write(tmp.dir, 'k.pem', ec().leaf.keyPem) }));
    expect([e.code, e.message]).to.deep.equal(['CERTIFICATE_INVALID', `certificate file ${p7} holds a PKCS#7 bundle, not a PEM certificate`]);
    expect(e.hint).to.contain('openssl pkcs7 -print_certs');
  });

  it('says no CERTIFICATE block was found in a PEM without one', async () => {
    const certificate = write(tmp.dir, 'c.pem', '-----BEGIN SOMETHING-----\nAQID\n-----END SOMETHING-----\n');
    const e = await thrown(() => loadSigner({ certificate, privateKey: certificate }));
    expect([e.code, e.message]).to.deep.equal(['CERTIFICATE_INVALID', `certificate file ${certificate}: no CERTIFICATE block found`]);
  });

  it('reports a damaged CERTIFICATE block as CERTIFICATE_INVALID naming the file', async () => {
    const body = ec().leaf.nodeCert.raw.subarray(0, 100).toString('base64');
    const certificate = write(tmp.dir, 'c.pem', `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`);
    const e = await thrown(() => loadSigner({ certificate, privateKey: write(tmp.dir, 'k.pem', ec().leaf.keyPem) }));
    expect([e.code, e.message]).to.deep.equal(['CERTIFICATE_INVALID', `${certificate} is not a valid X.509 certificate`]);
  });

  it('reports a binary file that is neither certificate nor bundle', async () => {
    const certificate = write(tmp.dir, 'c.bin', Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]));
    const e = await thrown(() => loadSigner({ certificate, privateKey: write(tmp.dir, 'k.pem', ec().leaf.keyPem) }));
    expect(e.code).to.equal('CERTIFICATE_INVALID');
    expect(e.message).to.contain(certificate).and.contain('no CERTIFICATE block found');
  });

  it('refuses an intermediates file with more than five certificates, naming it', async () => {
    const intermediates = write(tmp.dir, 'chain.pem', ec().intermediate.certPem.repeat(6));
    const e = await thrown(() => loadSigner({ ...writePair(tmp.dir, 'ec', ec().leaf), intermediates }));
    expect([e.code, e.message]).to.deep.equal([
      'CHAIN_INVALID',
      `intermediates file ${intermediates} holds 6 certificates; IAM Roles Anywhere accepts at most 5`,
    ]);
  });

  it('refuses an intermediates file without certificates', async () => {
    const intermediates = write(tmp.dir, 'chain.pem', '\n');
    const e = await thrown(() => loadSigner({ ...writePair(tmp.dir, 'ec', ec().leaf), intermediates }));
    expect(e.code).to.equal('CERTIFICATE_INVALID');
    expect(e.message).to.contain(intermediates).and.contain('no CERTIFICATE block found');
  });

  it('re-reads the files each time the loader is called, so a rotated pair is picked up', async () => {
    const files = writePair(tmp.dir, 'host', ec().leaf, [ec().intermediate]);
    const load = signerLoader(files);
    const first = await load();
    writeFileSync(files.certificate, ec().directLeaf.certPem);
    writeFileSync(files.privateKey, ec().directLeaf.keyPem);
    writeFileSync(files.intermediates!, '');
    expect((await thrown(load)).code, 'an empty intermediates file is refused').to.equal('CERTIFICATE_INVALID');
    writeFileSync(files.intermediates!, ec().root.certPem);
    const second = await load();
    expect(second.certificate.raw.equals(ec().directLeaf.nodeCert.raw), 'new certificate').to.equal(true);
    expect(first.certificate.raw.equals(ec().leaf.nodeCert.raw), 'the old signer keeps its certificate').to.equal(true);
    expect(second).to.be.instanceOf(FileSigner);
    expect(second).not.to.equal(first);
  });
});
