import { expect } from 'chai';
import { assertSoftHsm, SOFTHSM_MODULE } from '../../helpers/softhsm.js';
import { keyUri, rejection, signAndVerify, testPkis, useSoftHsm, verifies, type Pkis } from './fixtures.js';

const ID = Buffer.from([0x01, 0xab]);

describe('openPkcs11Signer on a SoftHSM token', function () {
  let pki: Pkis;
  before(async function () {
    assertSoftHsm();
    pki = await testPkis();
  });
  const t = useSoftHsm();

  for (const kind of ['rsa', 'ec'] as const) {
    it(`signs with an ${kind.toUpperCase()} key on the token and the certificate in a file, verifiable with the certificate's key`, async () => {
      const p = pki[kind];
      const token = t.hsm.initToken(`tok-${kind}`);
      t.hsm.writeKey(token, p.leaf.privateKey, { id: ID, label: 'leaf' });
      const certificate = t.write('leaf.pem', p.leaf.certPem);
      const intermediates = t.write('chain.pem', p.intermediate.certPem);
      const signer = await t.open({ certificate, intermediates, privateKey: keyUri(token), pin: { value: token.pin } });
      expect(signer.algorithm).to.equal(kind === 'rsa' ? 'AWS4-X509-RSA-SHA256' : 'AWS4-X509-ECDSA-SHA256');
      expect(signer.certificate.fingerprint256).to.equal(p.leaf.nodeCert.fingerprint256);
      expect(signer.chain.map((c) => c.subject)).to.deep.equal([p.intermediate.nodeCert.subject]);
      expect(signer.description).to.equal(keyUri(token));
      const data = Buffer.from('AWS4-X509-SIGNING string to sign');
      const signature = await signer.sign(data);
      if (kind === 'ec') expect(signature[0], 'ECDSA signature is a DER SEQUENCE').to.equal(0x30);
      expect(verifies(p.leaf.nodeCert, data, signature), 'signature verifies with the certificate key').to.equal(true);
      expect(t.spy.signMechanisms.at(-1)).to.equal(kind === 'rsa' ? (await t.spy.api()).CKM_SHA256_RSA_PKCS : (await t.spy.api()).CKM_ECDSA);
    });
  }

  it('finds the certificate on the token by the key\'s id when the certificate URI names no object', async () => {
    const token = t.hsm.initToken('both');
    t.hsm.writeKey(token, pki.rsa.leaf.privateKey, { id: ID, label: 'key-label' });
    t.hsm.writeCert(token, pki.other.leaf.nodeCert, { id: Buffer.from([9]), label: 'key-label' });
    t.hsm.writeCert(token, pki.rsa.leaf.nodeCert, { id: ID, label: 'cert-label' });
    const signer = await t.open({ certificate: 'pkcs11:token=both;type=cert', privateKey: 'pkcs11:token=both;object=key-label', pin: { value: token.pin } });
    expect(signer.certificate.fingerprint256).to.equal(pki.rsa.leaf.nodeCert.fingerprint256);
    expect(await signAndVerify(signer)).to.equal(true);
  });

  it('uses the certificate URI for both certificate and key when no private key is given', async () => {
    const token = t.hsm.initToken('single');
    t.hsm.writeKey(token, pki.ec.leaf.privateKey, { id: ID, label: 'leaf' });
    t.hsm.writeCert(token, pki.ec.leaf.nodeCert, { id: ID, label: 'leaf' });
    const signer = await t.open({ certificate: `pkcs11:token=single;id=%01%ab?pin-value=${token.pin}` });
    expect(signer.certificate.fingerprint256).to.equal(pki.ec.leaf.nodeCert.fingerprint256);
    expect(signer.description).to.equal('pkcs11:token=single;id=%01%ab');
    expect(await signAndVerify(signer)).to.equal(true);
  });

  it('finds the intermediates on the token by issuer and signature, leaving out the root and unrelated certificates', async () => {
    const token = t.hsm.initToken('chain');
    t.hsm.writeKey(token, pki.ec.leaf.privateKey, { id: ID, label: 'leaf' });
    t.hsm.writeCert(token, pki.ec.leaf.nodeCert, { id: ID, label: 'leaf' });
    t.hsm.writeCert(token, pki.ec.root.nodeCert, { id: Buffer.from([2]), label: 'root' });
    t.hsm.writeCert(token, pki.other.intermediate.nodeCert, { id: Buffer.from([3]), label: 'unrelated' });
    t.hsm.writeCert(token, pki.ec.intermediate.nodeCert, { id: Buffer.from([4]), label: 'intermediate' });
    const signer = await t.open({ certificate: 'pkcs11:token=chain;object=leaf', privateKey: 'pkcs11:token=chain;object=leaf', pin: { value: token.pin } });
    expect(signer.chain.map((c) => c.fingerprint256)).to.deep.equal([pki.ec.intermediate.nodeCert.fingerprint256]);
  });

  it('falls back to CKM_RSA_PKCS over a SHA-256 DigestInfo when the token lacks CKM_SHA256_RSA_PKCS', async () => {
    const api = await t.spy.api();
    t.spy.hiddenMechanisms.add(api.CKM_SHA256_RSA_PKCS);
    const token = t.hsm.initToken('raw-rsa');
    t.hsm.writeKey(token, pki.rsa.leaf.privateKey, { id: ID, label: 'leaf' });
    const signer = await t.open({ certificate: t.write('c.pem', pki.rsa.leaf.certPem), privateKey: keyUri(token), pin: { value: token.pin } });
    expect(await signAndVerify(signer)).to.equal(true);
    expect(t.spy.signMechanisms.every((m) => m === api.CKM_RSA_PKCS), `mechanisms used: ${t.spy.signMechanisms.join(',')}`).to.equal(true);
    expect(t.logs.some((l) => l.level === 'info' && /CKM_RSA_PKCS/.test(l.msg))).to.equal(true);
  });

  it('stops at the first wrong PIN: PKCS11_PIN, not retryable, one C_Login, and the token still accepts the right PIN', async () => {
    const token = t.hsm.initToken('pin-test', '4321');
    t.hsm.writeKey(token, pki.rsa.leaf.privateKey, { id: ID, label: 'leaf' });
    const certificate = t.write('c.pem', pki.rsa.leaf.certPem);
    const pinFile = t.write('pin', '9999\n');
    const err = await rejection(t.open({ certificate, privateKey: keyUri(token), pin: { file: pinFile } }));
    expect(err.code).to.equal('PKCS11_PIN');
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain('token "pin-test"').and.to.contain(pinFile).and.not.to.contain('9999');
    expect(t.spy.count('C_Login'), 'C_Login attempts').to.equal(1);
    const signer = await t.open({ certificate, privateKey: keyUri(token), pin: { value: '4321' } });
    expect(await signAndVerify(signer)).to.equal(true);
  });

  it('says how to give a PIN, and never logs in, when none is configured', async () => {
    const token = t.hsm.initToken('no-pin');
    t.hsm.writeKey(token, pki.ec.leaf.privateKey, { id: ID, label: 'leaf' });
    const err = await rejection(t.open({ certificate: t.write('c.pem', pki.ec.leaf.certPem), privateKey: keyUri(token) }));
    expect(err.code).to.equal('PKCS11_PIN');
    expect(err.message).to.contain('never prompts');
    expect(err.hint).to.contain('pin-source=file:');
    expect(t.spy.count('C_Login')).to.equal(0);
  });

  it('lists what the token holds when the key named by the URI is missing', async () => {
    const token = t.hsm.initToken('missing');
    t.hsm.writeKey(token, pki.rsa.leaf.privateKey, { id: ID, label: 'leaf' });
    t.hsm.writeCert(token, pki.rsa.leaf.nodeCert, { id: ID, label: 'leaf' });
    const err = await rejection(t.open({ certificate: t.write('c.pem', pki.rsa.leaf.certPem), privateKey: keyUri(token, 'nope'), pin: { value: token.pin } }));
    expect(err.code, 'a wrong object=/id= is bad input').to.equal('PKCS11_OBJECT_NOT_FOUND');
    expect(err.retryable, 'retrying cannot put the key on the token').to.equal(false);
    expect(err.hint).to.contain(`fix object=/id= in pkcs11:token=missing;object=nope`).and.to.contain(`list-certs --pkcs11-lib ${SOFTHSM_MODULE} 'pkcs11:token=missing'`);
    expect(err.message).to.contain('no private key matches pkcs11:token=missing;object=nope');
    expect(err.message).to.contain('private key "leaf" id=%01%ab (RSA 2048)');
    expect(err.message).to.contain('certificate "leaf" id=%01%ab (CN=leaf-rsa.example.test)');
  });

  it('names the tokens present when no token has the label in the URI, and sends no PIN', async () => {
    const token = t.hsm.initToken('present');
    const err = await rejection(t.open({ certificate: t.write('c.pem', pki.rsa.leaf.certPem), privateKey: 'pkcs11:token=absent;object=leaf', pin: { value: token.pin } }));
    expect(err.code).to.equal('PKCS11');
    expect(err.message).to.match(/no token matches pkcs11:token=absent;object=leaf .*tokens present: token "present" \(serial [0-9a-f]+, slot \d+\)/);
    expect(t.spy.count('C_Login')).to.equal(0);
  });

  it('refuses a certificate issued for another key (KEY_MISMATCH)', async () => {
    const token = t.hsm.initToken('mismatch');
    t.hsm.writeKey(token, pki.ec.leaf.privateKey, { id: ID, label: 'leaf' });
    const err = await rejection(t.open({ certificate: t.write('c.pem', pki.other.leaf.certPem), privateKey: keyUri(token), pin: { value: token.pin } }));
    expect(err.code).to.equal('KEY_MISMATCH');
  });

  describe('PIN sources', () => {
    async function tokenWithKey(label: string): Promise<{ certificate: string; pin: string; uri: string }> {
      const token = t.hsm.initToken(label, '2468');
      t.hsm.writeKey(token, pki.ec.leaf.privateKey, { id: ID, label: 'leaf' });
      return { certificate: t.write(`${label}.pem`, pki.ec.leaf.certPem), pin: token.pin, uri: keyUri(token) };
    }

    it('reads the PIN from pin-source=file: in the URI', async () => {
      const k = await tokenWithKey('src-uri');
      const pinFile = t.write('uri-pin', `${k.pin}\n`);
      const signer = await t.open({ certificate: k.certificate, privateKey: `${k.uri}?pin-source=file:${pinFile}` });
      expect(await signAndVerify(signer)).to.equal(true);
      expect(t.logs.filter((l) => l.level === 'warn')).to.deep.equal([]);
    });

    it('reads the PIN from an environment variable', async () => {
      const k = await tokenWithKey('src-env');
      const signer = await t.open({ certificate: k.certificate, privateKey: k.uri, pin: { env: 'TOKEN_PIN' } }, { env: { TOKEN_PIN: k.pin } });
      expect(await signAndVerify(signer)).to.equal(true);
    });

    it('reads the PIN from a file given in the configuration', async () => {
      const k = await tokenWithKey('src-file');
      const signer = await t.open({ certificate: k.certificate, privateKey: k.uri, pin: { file: t.write('cfg-pin', k.pin) } });
      expect(await signAndVerify(signer)).to.equal(true);
    });

    it('accepts pin-value in the URI with a warning that does not show the PIN, and keeps it out of the description', async () => {
      const k = await tokenWithKey('src-value');
      const signer = await t.open({ certificate: k.certificate, privateKey: `${k.uri}?pin-value=${k.pin}` });
      expect(await signAndVerify(signer)).to.equal(true);
      const warnings = t.logs.filter((l) => l.level === 'warn');
      expect(warnings).to.have.length(1);
      expect(warnings[0]!.msg).to.contain('pin-value').and.not.to.contain(k.pin);
      expect(signer.description).to.equal(k.uri);
    });

    it('fails with PKCS11_PIN naming the variable when the PIN environment variable is unset', async () => {
      const k = await tokenWithKey('src-unset');
      const err = await rejection(t.open({ certificate: k.certificate, privateKey: k.uri, pin: { env: 'NOT_SET_PIN' } }));
      expect(err.code).to.equal('PKCS11_PIN');
      expect(err.message).to.contain('NOT_SET_PIN');
      expect(t.spy.count('C_Login')).to.equal(0);
    });
  });

  describe('keys that require the PIN for every signature (CKA_ALWAYS_AUTHENTICATE)', () => {
    it('refuses them without reusePin, saying how to enable it', async () => {
      const token = t.hsm.initToken('always');
      t.hsm.writeKey(token, pki.rsa.leaf.privateKey, { id: ID, label: 'leaf', alwaysAuthenticate: true });
      const err = await rejection(t.open({ certificate: t.write('c.pem', pki.rsa.leaf.certPem), privateKey: keyUri(token), pin: { value: token.pin } }));
      expect(err.code).to.equal('PKCS11');
      expect(err.hint).to.contain('reuse_pin');
    });

    it('logs in context-specifically before each signature with reusePin', async () => {
      const api = await t.spy.api();
      const token = t.hsm.initToken('always-ok');
      t.hsm.writeKey(token, pki.ec.leaf.privateKey, { id: ID, label: 'leaf', alwaysAuthenticate: true });
      const signer = await t.open({ certificate: t.write('c.pem', pki.ec.leaf.certPem), privateKey: keyUri(token), pin: { value: token.pin }, reusePin: true });
      const before = t.spy.loginTypes.filter((u) => u === api.CKU_CONTEXT_SPECIFIC).length;
      for (let i = 0; i < 3; i++) expect(await signAndVerify(signer)).to.equal(true);
      const after = t.spy.loginTypes.filter((u) => u === api.CKU_CONTEXT_SPECIFIC).length;
      expect(after - before, 'context-specific logins for 3 signatures').to.equal(3);
    });
  });

  it('logs out, closes the session and finalises the module when the last signer closes', async () => {
    const token = t.hsm.initToken('closing');
    t.hsm.writeKey(token, pki.ec.leaf.privateKey, { id: ID, label: 'leaf' });
    const certificate = t.write('c.pem', pki.ec.leaf.certPem);
    const a = await t.open({ certificate, privateKey: keyUri(token), pin: { value: token.pin } });
    const b = await t.open({ certificate, privateKey: keyUri(token), pin: { value: token.pin } });
    await a.close();
    expect(t.spy.count('C_Logout'), 'no logout while a signer remains').to.equal(0);
    expect(await signAndVerify(b)).to.equal(true);
    await b.close();
    expect(t.spy.count('C_Logout')).to.equal(1);
    expect(t.spy.count('C_CloseSession')).to.be.at.least(1);
    expect(t.spy.count('C_Finalize')).to.equal(1);
    const err = await rejection(b.sign(Buffer.from('x')));
    expect(err.message).to.contain('closed');
  });
});
