import { expect } from 'chai';
import { Writable } from 'node:stream';
import { listCertsCommand } from '../../../src/cli/list-certs.js';
import { EXIT, type CommandIO } from '../../../src/cli/io.js';
import { serialDecimal } from '../../../src/keys/signer.js';
import { ManualClock } from '../../../src/time/clock.js';
import { assertSoftHsm, SOFTHSM_MODULE } from '../../helpers/softhsm.js';
import { signAndVerify, testPkis, useSoftHsm, type Pkis } from './fixtures.js';

function capture(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const out = capture();
  const err = capture();
  const io: CommandIO = { stdout: out.stream, stderr: err.stream, env, clock: new ManualClock(0), signal: new AbortController().signal, isTTY: false };
  const code = await listCertsCommand(args, io);
  return { code, out: out.text(), err: err.text() };
}

describe('list-certs', function () {
  let pki: Pkis;
  before(async function () {
    assertSoftHsm();
    pki = await testPkis();
  });
  const t = useSoftHsm();

  function fillToken() {
    const token = t.hsm.initToken('list me', '2222');
    t.hsm.writeKey(token, pki.rsa.leaf.privateKey, { id: Buffer.from([0x0a]), label: 'leaf key' });
    t.hsm.writeCert(token, pki.rsa.leaf.nodeCert, { id: Buffer.from([0x0a]), label: 'leaf' });
    t.hsm.writeCert(token, pki.rsa.intermediate.nodeCert, { id: Buffer.from([0x0b]), label: 'intermediate' });
    return token;
  }

  it('prints each certificate and key on the token with a URI, serial in hex and decimal, subject, issuer and not-after', async () => {
    const token = fillToken();
    const r = await run(['--pkcs11-lib', SOFTHSM_MODULE, '--pin-env', 'TOKEN_PIN', 'pkcs11:token=list%20me'], { TOKEN_PIN: token.pin });
    expect(r.err).to.equal('');
    expect(r.code).to.equal(EXIT.OK);
    const leaf = pki.rsa.leaf.nodeCert;
    const serial = `pkcs11:serial=${token.serial};token=list%20me`;
    expect(r.out).to.contain(`token "list me" (manufacturer SoftHSM project, model SoftHSM v2, serial ${token.serial}`);
    expect(r.out).to.contain(`  certificate "leaf" id=0a\n    ${serial};object=leaf;id=%0a;type=cert\n`);
    expect(r.out).to.contain(`    subject    CN=leaf-rsa.example.test\n    issuer     CN=Test Intermediate rsa\n`);
    expect(r.out).to.contain(`    serial     ${leaf.serialNumber.toLowerCase()} (decimal ${serialDecimal(leaf)})\n`);
    expect(r.out).to.contain(`    not after  ${new Date(leaf.validTo).toISOString()}\n`);
    expect(r.out).to.contain(`  certificate "intermediate" id=0b\n`);
    expect(r.out).to.contain(`  private key "leaf key" id=0a RSA 2048\n    ${serial};object=leaf%20key;id=%0a;type=private\n`);
    expect(r.out).to.not.contain(token.pin);
  });

  it('prints URIs that open a working signer when pasted into the configuration', async () => {
    const token = fillToken();
    const r = await run(['--pkcs11-lib', SOFTHSM_MODULE, '--json', '--pin-env', 'P', 'pkcs11:'], { P: token.pin });
    expect(r.code, r.err).to.equal(EXIT.OK);
    const listing = JSON.parse(r.out) as { tokens: { objects: { class: string; label: string; uri: string }[] }[] };
    const objects = listing.tokens[0]!.objects;
    const keyUri = objects.find((o) => o.class === 'private')!.uri;
    const certUri = objects.find((o) => o.label === 'leaf')!.uri;
    const signer = await t.open({ certificate: certUri, privateKey: keyUri, pin: { value: token.pin } });
    expect(signer.certificate.fingerprint256).to.equal(pki.rsa.leaf.nodeCert.fingerprint256);
    expect(signer.chain.map((c) => c.fingerprint256)).to.deep.equal([pki.rsa.intermediate.nodeCert.fingerprint256]);
    expect(await signAndVerify(signer)).to.equal(true);
  });

  it('prints JSON with the token and each object', async () => {
    const token = fillToken();
    const r = await run(['--pkcs11-lib', SOFTHSM_MODULE, '--json', 'pkcs11:token=list%20me;type=cert']);
    expect(r.code, r.err).to.equal(EXIT.OK);
    const listing = JSON.parse(r.out);
    expect(listing.module).to.equal(SOFTHSM_MODULE);
    expect(listing.tokens).to.have.length(1);
    expect(listing.tokens[0].label).to.equal('list me');
    expect(listing.tokens[0].serial).to.equal(token.serial);
    expect(listing.tokens[0].objects.map((o: { label: string }) => o.label).sort()).to.deep.equal(['intermediate', 'leaf']);
    const leaf = listing.tokens[0].objects.find((o: { label: string }) => o.label === 'leaf');
    expect(leaf.certificate.serialDecimal).to.equal(serialDecimal(pki.rsa.leaf.nodeCert));
    expect(leaf.certificate.issuer).to.equal('CN=Test Intermediate rsa');
  });

  it('lists public objects only, and says why, when no PIN is given', async () => {
    fillToken();
    const r = await run(['--pkcs11-lib', SOFTHSM_MODULE, 'pkcs11:']);
    expect(r.code, r.err).to.equal(EXIT.OK);
    expect(r.out).to.not.contain('private key "');
    expect(r.out).to.contain('certificate "leaf"');
    expect(r.out).to.contain('note: no PIN given');
  });

  it('prints the certificates and keys of a PEM file', async () => {
    const file = t.write('bundle.pem', pki.ec.leaf.certPem + pki.ec.intermediate.certPem + pki.ec.leaf.keyPem);
    const r = await run([file]);
    expect(r.code, r.err).to.equal(EXIT.OK);
    const leaf = pki.ec.leaf.nodeCert;
    expect(r.out).to.contain(`file ${file}\n`);
    expect(r.out).to.contain(`  certificate #1\n    subject    CN=leaf-ec.example.test\n    issuer     CN=Test Intermediate ec\n    serial     ${leaf.serialNumber.toLowerCase()} (decimal ${serialDecimal(leaf)})\n`);
    expect(r.out).to.contain('  certificate #2\n    subject    CN=Test Intermediate ec\n');
    expect(r.out).to.contain('  private key #3 EC P-256\n');
    const json = JSON.parse((await run(['--json', file])).out);
    expect(json.certificates).to.have.length(2);
    expect(json.keys).to.deep.equal([{ index: 3, key: 'EC P-256', encrypted: false }]);
  });

  it('exits BAD_INPUT with the tokens present when no token matches', async () => {
    fillToken();
    const r = await run(['--pkcs11-lib', SOFTHSM_MODULE, 'pkcs11:token=nope']);
    expect(r.code, r.err).to.equal(EXIT.BAD_INPUT);
    expect(r.err).to.contain('no token matches pkcs11:token=nope').and.to.contain('token "list me"');
  });

  it('exits BAD_INPUT on bad flags, two targets, or both PIN flags', async () => {
    expect((await run(['--bogus'])).code).to.equal(EXIT.BAD_INPUT);
    expect((await run(['a.pem', 'b.pem'])).code).to.equal(EXIT.BAD_INPUT);
    expect((await run(['--pin-file', 'f', '--pin-env', 'V', 'pkcs11:'])).code).to.equal(EXIT.BAD_INPUT);
    const missing = await run([t.write('x', '') + '-absent']);
    expect(missing.code, missing.err).to.equal(EXIT.BAD_INPUT);
    expect(missing.err).to.contain('cannot be read (ENOENT)');
  });
});
