import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { CKR } from '../../../src/keys/pkcs11/ckr.js';
import { reopenDelay } from '../../../src/keys/pkcs11/token.js';
import { assertSoftHsm } from '../../helpers/softhsm.js';
import { keyUri, rejection, signAndVerify, testPkis, useSoftHsm, verifies, type Pkis } from './fixtures.js';

const ID = Buffer.from([0x42]);

describe('reopen delay after failed reopen attempts', () => {
  const b = { initialMs: 1000, maxMs: 60_000 };
  const table: [number, number][] = [
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [6, 32_000],
    [7, 60_000],
    [50, 60_000],
  ];
  for (const [failures, expected] of table) {
    it(`waits ${expected} ms after ${failures} consecutive failures (doubling, capped at 60 s)`, () => {
      expect(reopenDelay(failures, b)).to.equal(expected);
    });
  }
});

describe('PKCS#11 signer recovery and sharing on a SoftHSM token', function () {
  let pki: Pkis;
  before(async function () {
    assertSoftHsm();
    pki = await testPkis();
  });
  const t = useSoftHsm();

  async function rsaSigner(label = 'recover') {
    const token = t.hsm.initToken(label, '1357');
    t.hsm.writeKey(token, pki.rsa.leaf.privateKey, { id: ID, label: 'leaf' });
    const pinFile = t.write(`${label}.pin`, token.pin);
    const signer = await t.open({ certificate: t.write(`${label}.pem`, pki.rsa.leaf.certPem), privateKey: keyUri(token), pin: { file: pinFile } });
    return { token, signer, pinFile };
  }

  it('recovers on the next signature after every session of the token was closed behind its back', async () => {
    const { signer } = await rsaSigner();
    const lib = t.spy.instances[0]!;
    lib.C_CloseAllSessions(lib.C_GetSlotList(true)[0]!);
    const logins = t.spy.count('C_Login');
    expect(await signAndVerify(signer)).to.equal(true);
    expect(t.spy.count('C_Login') - logins, 'logged in again once').to.equal(1);
  });

  it('re-initialises the library and recovers after it was finalised behind its back', async () => {
    const { signer } = await rsaSigner();
    t.spy.instances[0]!.C_Finalize();
    const inits = t.spy.count('C_Initialize');
    expect(await signAndVerify(signer)).to.equal(true);
    expect(t.spy.count('C_Initialize') - inits, 'C_Initialize again').to.equal(1);
    expect(await signAndVerify(signer), 'and keeps signing').to.equal(true);
  });

  it('recovers when someone else finalised and re-initialised the library (old session handles dead)', async () => {
    const { signer } = await rsaSigner();
    const lib = t.spy.instances[0]!;
    lib.C_Finalize();
    lib.C_Initialize();
    expect(await signAndVerify(signer)).to.equal(true);
  });

  it('reports a failed reopen as retryable, waits out the backoff without touching the token, then recovers', async () => {
    const { signer } = await rsaSigner();
    t.spy.failures.set('C_SignInit', [CKR.DEVICE_REMOVED]);
    t.spy.failures.set('C_OpenSession', [CKR.TOKEN_NOT_PRESENT, CKR.TOKEN_NOT_PRESENT]);
    const first = await rejection(signer.sign(Buffer.from('a')));
    expect(first.code).to.equal('PKCS11');
    expect(first.retryable).to.equal(true);
    const opens = t.spy.count('C_OpenSession');
    const second = await rejection(signer.sign(Buffer.from('b')));
    expect(second.retryable).to.equal(true);
    expect(second.message).to.match(/unavailable \(CKR_TOKEN_NOT_PRESENT\); next attempt in 1 s/);
    expect(t.spy.count('C_OpenSession'), 'no reopen attempt inside the backoff').to.equal(opens);
    t.clock.advance(1000);
    expect(await signAndVerify(signer)).to.equal(true);
  });

  it('reports a device error as retryable and a refused key function as not, and signs again afterwards', async () => {
    const { signer } = await rsaSigner();
    t.spy.failures.set('C_Sign', [CKR.DEVICE_ERROR]);
    const transient = await rejection(signer.sign(Buffer.from('a')));
    expect([transient.code, transient.retryable]).to.deep.equal(['PKCS11', true]);
    expect(transient.message).to.contain('CKR_DEVICE_ERROR').and.to.contain('token "recover"');
    const KEY_FUNCTION_NOT_PERMITTED = 0x68;
    t.spy.failures.set('C_SignInit', [KEY_FUNCTION_NOT_PERMITTED]);
    const fatal = await rejection(signer.sign(Buffer.from('b')));
    expect([fatal.code, fatal.retryable]).to.deep.equal(['PKCS11', false]);
    expect(await signAndVerify(signer)).to.equal(true);
  });

  it('stops at a PIN the token rejects on re-login, never resends it, and uses a corrected PIN file', async () => {
    const { token, signer, pinFile } = await rsaSigner('pin-change');
    // Changed through the process's own library instance: SoftHSM keeps the token's PIN in memory,
    // so a change by another process would not be seen until the library is re-initialised.
    const api = await t.spy.api();
    const lib = t.spy.instances[0]!;
    const slot = lib.C_GetSlotList(true)[0]!;
    const admin = lib.C_OpenSession(slot, api.CKF_SERIAL_SESSION | api.CKF_RW_SESSION);
    lib.C_SetPIN(admin, token.pin, '8642');
    lib.C_CloseAllSessions(slot);
    const logins = t.spy.count('C_Login');
    const first = await rejection(signer.sign(Buffer.from('a')));
    expect(first.code).to.equal('PKCS11_PIN');
    expect(first.retryable).to.equal(false);
    expect(t.spy.count('C_Login') - logins, 'one login attempt with the old PIN').to.equal(1);
    const second = await rejection(signer.sign(Buffer.from('b')));
    expect(second.code).to.equal('PKCS11_PIN');
    expect(second.message).to.contain('not sent again');
    expect(t.spy.count('C_Login') - logins, 'the rejected PIN is not sent again').to.equal(1);
    writeFileSync(pinFile, '8642\n');
    expect(await signAndVerify(signer)).to.equal(true);
  });

  it('shares one session between two signers on one token and keeps 100 interleaved concurrent signatures valid', async () => {
    const token = t.hsm.initToken('shared');
    t.hsm.writeKey(token, pki.rsa.leaf.privateKey, { id: Buffer.from([1]), label: 'rsa' });
    t.hsm.writeKey(token, pki.ec.leaf.privateKey, { id: Buffer.from([2]), label: 'ec' });
    const pin = { value: token.pin };
    const [rsa, ec] = await Promise.all([
      t.open({ certificate: t.write('rsa.pem', pki.rsa.leaf.certPem), privateKey: keyUri(token, 'rsa'), pin }),
      t.open({ certificate: t.write('ec.pem', pki.ec.leaf.certPem), privateKey: keyUri(token, 'ec'), pin }),
    ]);
    expect(t.spy.count('C_OpenSession'), 'one session for the token').to.equal(1);
    const jobs = Array.from({ length: 100 }, (_, i) => {
      const signer = i % 2 ? ec : rsa;
      const data = Buffer.from(`request ${i}`);
      return signer.sign(data).then((sig) => verifies(signer.certificate, data, sig));
    });
    const results = await Promise.all(jobs);
    expect(results.filter((ok) => !ok).length, 'signatures that do not verify').to.equal(0);
    expect(t.spy.count('C_OpenSession'), 'still one session').to.equal(1);
    expect(t.spy.count('C_Login'), 'one login').to.equal(1);
  });
});
