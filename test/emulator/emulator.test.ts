import 'reflect-metadata';
import { expect } from 'chai';
import * as x509 from '@peculiar/x509';
import { ManualClock } from '../../src/time/clock.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { issue, makePki, type Issued, type TestPki } from '../helpers/pki.js';
import { legacyLeaf } from './legacy-certs.js';
import { parseCertificate } from '../../src/emulator/certificate.js';
import { PROTOTYPE_NAMES } from '../hostile/shapes.js';
import {
  ACCOUNT,
  PROFILE,
  PROFILE2,
  REGION,
  ROLE,
  ROLE2,
  TA,
  TA2,
  arnQuery,
  baseConfig,
  hostOf,
  send,
  serialOf,
  signRequest,
  type Credentialled,
  type Reply,
  type SignOptions,
} from './support.js';

const MIN = 60_000;

describe('emulator: CreateSession over HTTP and HTTPS', function () {
  let rsa: TestPki;
  let ec: TestPki;
  let otherRoot: Issued;
  let clock: ManualClock;
  let emu: Emulator;

  before(async () => {
    [rsa, ec, otherRoot] = await Promise.all([makePki('rsa'), makePki('ec'), issue({ name: 'Other Root', kind: 'ec', ca: true })]);
  });

  beforeEach(async () => {
    clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000); // whole seconds, like X-Amz-Date
    emu = await startEmulator(baseConfig({ [TA]: [rsa.root.certPem + ec.root.certPem], [TA2]: [otherRoot.certPem] }), { clock });
  });

  afterEach(async () => {
    await emu.stop();
  });

  function signed(creds: Credentialled, o: Partial<SignOptions> = {}, base = emu.httpUrl!): ReturnType<typeof signRequest> {
    return signRequest({ host: hostOf(base), dateMs: clock.now(), ...creds, ...o });
  }

  async function call(creds: Credentialled, o: Partial<SignOptions> = {}): Promise<Reply> {
    return send(emu.httpUrl!, signed(creds, o));
  }

  function expectRefused(reply: Reply, status: number, errorType: string, reason: string): void {
    const last = emu.requests.at(-1);
    expect(
      { status: reply.status, errorType: reply.headers['x-amzn-errortype'], reason: last?.reason },
      `reply ${reply.text}`,
    ).to.deep.equal({ status, errorType, reason });
    expect(reply.json, 'an error body is {"message": …}').to.have.property('message').that.is.a('string').and.not.empty;
    expect(last?.ok).to.equal(false);
    expect(emu.issued, 'no credentials are issued on a refusal').to.have.length(0);
  }

  function expectSuccess(reply: Reply): any {
    expect(reply.status, reply.text).to.equal(201);
    return reply.json;
  }

  const leafOf = (p: TestPki) => ({ leaf: p.leaf, chain: [p.intermediate] });

  it('keeps only the latest historyLimit requests and issued credentials, so a long run does not grow without bound', async () => {
    const small = await startEmulator(baseConfig({ [TA]: [rsa.root.certPem] }), { clock, historyLimit: 3 });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const reply = await send(small.httpUrl!, signRequest({ host: hostOf(small.httpUrl!), dateMs: clock.now(), ...leafOf(rsa) }));
        expect(reply.status, reply.text).to.equal(201);
        ids.push(reply.json.credentialSet[0].credentials.accessKeyId);
      }
      expect(small.requests.map((r) => r.status), 'recorded requests').to.deep.equal([201, 201, 201]);
      expect(small.issued.map((c) => c.accessKeyId), 'the last three issued, oldest first').to.deep.equal(ids.slice(2));
    } finally {
      await small.stop();
    }
  });

  describe('success', () => {
    for (const kind of ['rsa', 'ec'] as const) {
      it(`issues credentials to a ${kind} leaf under an intermediate over HTTPS, trusting the emulator's CA`, async () => {
        const p = kind === 'rsa' ? rsa : ec;
        const r = signed(leafOf(p), {}, emu.httpsUrl!);
        const reply = await send(emu.httpsUrl!, r, emu.caPem);
        const body = expectSuccess(reply);
        const set = body.credentialSet[0];
        const c = set.credentials;
        expect(c.accessKeyId).to.match(/^ASIA[A-Z2-7]{16}$/);
        expect(c.secretAccessKey).to.match(/^[A-Za-z0-9+/]{40}$/);
        expect(c.sessionToken.length).to.be.greaterThan(500);
        for (const ch of ['+', '/', '=']) expect(c.sessionToken, `session token contains ${ch}`).to.include(ch);
        expect(c.expiration).to.equal(new Date(clock.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
        const serialHex = BigInt('0x' + p.leaf.nodeCert.serialNumber).toString(16);
        expect(set.assumedRoleUser.arn).to.equal(`arn:aws:sts::${ACCOUNT}:assumed-role/demo-role/${serialHex}`);
        expect(set.assumedRoleUser.assumedRoleId).to.match(new RegExp(`^AROA[A-Z2-7]{17}:${serialHex}$`));
        expect(set.roleArn).to.equal(ROLE);
        expect(set.packedPolicySize).to.equal(0);
        expect(set.sourceIdentity).to.equal(`CN=leaf-${kind}.example.test`);
        expect(body.subjectArn).to.match(new RegExp(`^arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:subject/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`));
        expect(emu.issued.map((i) => i.secretAccessKey)).to.deep.equal([c.secretAccessKey]);
        const rec = emu.requests.at(-1)!;
        expect({ ok: rec.ok, status: rec.status, serial: rec.serial, profileArn: rec.profileArn, roleArn: rec.roleArn, arnsFrom: rec.arnsFrom }).to.deep.equal({
          ok: true,
          status: 201,
          serial: serialOf(p.leaf),
          profileArn: PROFILE,
          roleArn: ROLE,
          arnsFrom: 'query',
        });
        const log = JSON.stringify(emu.requests);
        for (const secret of [c.secretAccessKey, c.sessionToken]) expect(log.includes(secret), 'the request log holds no secret').to.equal(false);
      });

      it(`issues credentials to a ${kind} leaf directly under the root over plain HTTP`, async () => {
        const p = kind === 'rsa' ? rsa : ec;
        const body = expectSuccess(await call({ leaf: p.directLeaf }));
        expect(body.credentialSet[0].sourceIdentity).to.equal(`CN=direct-${kind}.example.test`);
      });
    }

    it('refuses a TLS client that does not trust the emulator CA (the HTTPS certificate is real TLS)', async () => {
      const err = await send(emu.httpsUrl!, signed(leafOf(rsa), {}, emu.httpsUrl!)).then(
        () => undefined,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(err?.code).to.be.oneOf(['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT']);
    });

    it('serves HTTPS for the name localhost too (SAN)', async () => {
      const url = emu.httpsUrl!.replace('127.0.0.1', 'localhost');
      expectSuccess(await send(url, signed(leafOf(ec), {}, url), emu.caPem));
    });

    it('finds the path whatever the order of X-Amz-X509-Chain and ignores extra certificates there', async () => {
      expectSuccess(await call({ leaf: rsa.leaf, chain: [ec.intermediate, rsa.intermediate] }));
    });

    it('accepts a date skew of exactly 5 minutes either way', async () => {
      expectSuccess(await call(leafOf(rsa), { dateMs: clock.now() - 5 * MIN }));
      expectSuccess(await call(leafOf(rsa), { dateMs: clock.now() + 5 * MIN }));
    });

    it('accepts the ARNs in the JSON body only, and in both places when they agree', async () => {
      const body = { durationSeconds: 900, profileArn: PROFILE, roleArn: ROLE, trustAnchorArn: TA };
      expectSuccess(await call(leafOf(rsa), { query: [], body }));
      expect(emu.requests.at(-1)!.arnsFrom).to.equal('body');
      expectSuccess(await call(leafOf(rsa), { body }));
      expect(emu.requests.at(-1)!.arnsFrom).to.equal('both');
    });

    it('caps the session at the profile duration and defaults to it', async () => {
      let body = expectSuccess(await call(leafOf(ec), { body: { durationSeconds: 7200 } }));
      expect(body.credentialSet[0].credentials.expiration, 'PROFILE caps 7200 at its default 3600').to.equal(iso(clock.now() + 3600_000));
      body = expectSuccess(await call(leafOf(ec), { body: {} }));
      expect(body.credentialSet[0].credentials.expiration, 'no durationSeconds → the profile duration').to.equal(iso(clock.now() + 3600_000));
      body = expectSuccess(await call(leafOf(ec), { query: arnQuery(TA, PROFILE2, ROLE), body: { durationSeconds: 900 } }));
      expect(body.credentialSet[0].credentials.expiration).to.equal(iso(clock.now() + 900_000));
      body = expectSuccess(await call(leafOf(ec), { query: arnQuery(TA, PROFILE2, ROLE), body: { durationSeconds: 43200 } }));
      expect(body.credentialSet[0].credentials.expiration, 'PROFILE2 allows 7200').to.equal(iso(clock.now() + 7200_000));
    });

    it('uses a roleSessionName when the profile accepts one', async () => {
      const body = expectSuccess(await call(leafOf(ec), { query: arnQuery(TA, PROFILE2, ROLE), body: { durationSeconds: 900, roleSessionName: 'alice@example.com' } }));
      expect(body.credentialSet[0].assumedRoleUser.arn).to.equal(`arn:aws:sts::${ACCOUNT}:assumed-role/demo-role/alice@example.com`);
    });

    it('sees trust anchors, profiles and roles added while it runs', async () => {
      const newProfile = PROFILE.replace(/profile\/.*/, 'profile/7c6d5e4f-3a2b-4c1d-8e9f-0a1b2c3d4e5f');
      expectRefused(await call(leafOf(rsa), { query: arnQuery(TA, newProfile, ROLE) }), 403, 'AccessDeniedException', 'PROFILE_UNKNOWN');
      emu.config.profiles.push({ arn: newProfile, roleArns: [ROLE] });
      emu.requests.length = 0;
      expectSuccess(await call(leafOf(rsa), { query: arnQuery(TA, newProfile, ROLE) }));
    });

    it('accepts a v3 SHA-256 leaf built by the legacy builder (the control for the v1 and MD5 cases)', async () => {
      expectSuccess(await call({ leaf: legacyLeaf(rsa.root, { cn: 'control', version: 3, hash: 'sha256' }) }));
    });
  });

  describe('signature rejections', () => {
    it('refuses a body changed after signing', async () => {
      expectRefused(await call(leafOf(rsa), { tamper: (r) => void (r.body = JSON.stringify({ durationSeconds: 3601 })) }), 403, 'AccessDeniedException', 'SIGNATURE_MISMATCH');
    });

    it('refuses a signed header changed after signing, and says what it expected', async () => {
      const reply = await call(leafOf(ec), { tamper: (r) => void (r.headers['Content-Type'] = 'application/json; charset=utf-8') });
      expectRefused(reply, 403, 'AccessDeniedException', 'SIGNATURE_MISMATCH');
      expect(reply.json.message).to.include('content-type:application/json; charset=utf-8');
    });

    it('refuses a query string changed after signing', async () => {
      expectRefused(await call(leafOf(rsa), { tamper: (r) => void (r.url = r.url.replace('demo-role', 'demo-rolf')) }), 403, 'AccessDeniedException', 'SIGNATURE_MISMATCH');
    });

    it('refuses a signature made with another key', async () => {
      const { sign } = await import('node:crypto');
      expectRefused(await call(leafOf(rsa), { signer: (d) => sign('sha256', d, rsa.directLeaf.privateKey) }), 403, 'AccessDeniedException', 'SIGNATURE_MISMATCH');
    });

    it('refuses a Credential serial that is not the certificate serial', async () => {
      expectRefused(await call(leafOf(rsa), { serial: (BigInt(serialOf(rsa.leaf)) + 1n).toString() }), 403, 'AccessDeniedException', 'SERIAL_MISMATCH');
    });

    it('refuses the serial written with a leading zero or in hex', async () => {
      expectRefused(await call(leafOf(rsa), { serial: '0' + serialOf(rsa.leaf) }), 403, 'AccessDeniedException', 'SERIAL_MISMATCH');
      expectRefused(await call(leafOf(rsa), { serial: rsa.leaf.nodeCert.serialNumber }), 403, 'AccessDeniedException', 'SERIAL_MISMATCH');
    });

    it('refuses the ECDSA algorithm name with an RSA key and the RSA name with an EC key', async () => {
      expectRefused(await call(leafOf(rsa), { algorithm: 'AWS4-X509-ECDSA-SHA256' }), 403, 'AccessDeniedException', 'ALGORITHM_MISMATCH');
      expectRefused(await call(leafOf(ec), { algorithm: 'AWS4-X509-RSA-SHA256' }), 403, 'AccessDeniedException', 'ALGORITHM_MISMATCH');
    });

    it('refuses an algorithm it does not know', async () => {
      expectRefused(await call(leafOf(rsa), { algorithm: 'AWS4-HMAC-SHA256' }), 403, 'AccessDeniedException', 'ALGORITHM_UNKNOWN');
    });

    for (const name of PROTOTYPE_NAMES) {
      it(`refuses the algorithm name "${name}" as unknown (not found on Object.prototype)`, async () => {
        const reply = await call(leafOf(rsa), { algorithm: name });
        expectRefused(reply, 403, 'AccessDeniedException', 'ALGORITHM_UNKNOWN');
        expect(reply.text, 'no prototype member printed').not.to.match(/native code|\[object Object\]|function\s*\w*\(/);
      });
    }

    for (const missing of ['content-type', 'host', 'x-amz-date', 'x-amz-x509']) {
      it(`refuses a request that does not sign ${missing}`, async () => {
        const signedList = ['content-type', 'host', 'x-amz-date', 'x-amz-x509', 'x-amz-x509-chain'].filter((h) => h !== missing);
        expectRefused(await call(leafOf(rsa), { signed: signedList }), 403, 'AccessDeniedException', 'SIGNED_HEADER_REQUIRED');
      });
    }

    it('refuses an X-Amz-X509-Chain header that is sent but not signed', async () => {
      expectRefused(await call(leafOf(ec), { signed: ['content-type', 'host', 'x-amz-date', 'x-amz-x509'] }), 403, 'AccessDeniedException', 'SIGNED_HEADER_REQUIRED');
    });

    it('refuses a SignedHeaders entry the request does not carry', async () => {
      expectRefused(await call({ leaf: rsa.directLeaf }, { signed: ['content-type', 'host', 'x-amz-date', 'x-amz-x509', 'x-extra'] }), 403, 'AccessDeniedException', 'SIGNED_HEADER_ABSENT');
    });

    it('refuses an unsorted SignedHeaders list', async () => {
      const reply = await call({ leaf: rsa.directLeaf }, { tamper: (r) => void (r.headers.Authorization = r.headers.Authorization!.replace('content-type;host', 'host;content-type')) });
      expectRefused(reply, 403, 'AccessDeniedException', 'SIGNED_HEADERS_MALFORMED');
    });

    it('refuses a date 6 minutes behind and 6 minutes ahead, quoting the server time', async () => {
      let reply = await call(leafOf(rsa), { dateMs: clock.now() - 6 * MIN });
      expectRefused(reply, 403, 'AccessDeniedException', 'SIGNATURE_EXPIRED');
      expect(reply.json.message).to.match(/^Signature expired: \d{8}T\d{6}Z is now earlier than/).and.include(new Date(clock.now()).toISOString().slice(0, 10).replace(/-/g, ''));
      reply = await call(leafOf(rsa), { dateMs: clock.now() + 6 * MIN });
      expectRefused(reply, 403, 'AccessDeniedException', 'SIGNATURE_NOT_YET_CURRENT');
    });

    it('uses its injected clock, not the system clock, for the skew window', async () => {
      clock.advance(10 * MIN);
      expectRefused(await call(leafOf(rsa), { dateMs: Date.now() }), 403, 'AccessDeniedException', 'SIGNATURE_EXPIRED');
    });

    it('refuses a Credential scope date that differs from X-Amz-Date', async () => {
      const reply = await call(leafOf(rsa), {
        tamper: (r) => {
          const d = r.headers['X-Amz-Date']!.slice(0, 8);
          r.headers.Authorization = r.headers.Authorization!.replace(`/${d}/`, '/19991231/');
        },
      });
      expectRefused(reply, 403, 'AccessDeniedException', 'SCOPE_DATE_MISMATCH');
    });

    it("refuses a signature scoped to a region other than the trust anchor's", async () => {
      expectRefused(await call(leafOf(rsa), { region: 'us-east-1' }), 403, 'AccessDeniedException', 'SCOPE_REGION_MISMATCH');
    });

    it('refuses a request without Authorization, and one with a malformed X-Amz-Date', async () => {
      expectRefused(await call(leafOf(rsa), { tamper: (r) => void delete r.headers.Authorization }), 403, 'AccessDeniedException', 'AUTH_MISSING');
      expectRefused(await call(leafOf(rsa), { tamper: (r) => void (r.headers['X-Amz-Date'] = '2026-11-22T00:00:00Z') }), 403, 'AccessDeniedException', 'DATE_MALFORMED');
    });

    it('refuses an X-Amz-X509 that is not a certificate', async () => {
      expectRefused(await call(leafOf(rsa), { tamper: (r) => void (r.headers['X-Amz-X509'] = 'bm90IGEgY2VydA==') }), 403, 'AccessDeniedException', 'CERT_MALFORMED');
    });
  });

  describe('certificate and chain rejections', () => {
    it('refuses a leaf from a CA that is not in the trust anchor', async () => {
      const stranger = await issue({ name: 'stranger', kind: 'ec', issuer: otherRoot });
      expectRefused(await call({ leaf: stranger }), 403, 'AccessDeniedException', 'CHAIN_UNTRUSTED');
    });

    it('refuses a leaf from an impostor CA with the same name as the trusted root (signatures, not names, decide)', async () => {
      const impostor = await issue({ name: 'Test Root ec', kind: 'ec', ca: true });
      expect(impostor.nodeCert.subject, 'same subject as the trusted root').to.equal(ec.root.nodeCert.subject);
      const leaf = await issue({ name: 'impostor-leaf', kind: 'ec', issuer: impostor });
      expectRefused(await call({ leaf }), 403, 'AccessDeniedException', 'CHAIN_UNTRUSTED');
      const forgedInt = await issue({ name: 'Test Intermediate ec', kind: 'ec', ca: true, issuer: impostor });
      const leaf2 = await issue({ name: 'forged-int-leaf', kind: 'ec', issuer: forgedInt });
      expectRefused(await call({ leaf: leaf2, chain: [forgedInt] }), 403, 'AccessDeniedException', 'CHAIN_UNTRUSTED');
    });

    it('refuses a leaf whose intermediate is not given', async () => {
      const reply = await call({ leaf: rsa.leaf });
      expectRefused(reply, 403, 'AccessDeniedException', 'CHAIN_UNTRUSTED');
      expect(reply.json.message).to.match(/^Untrusted signing certificate/);
    });

    it('refuses more than five intermediates and a chain entry that is not a certificate', async () => {
      const six = Array.from({ length: 6 }, () => rsa.intermediate);
      expectRefused(await call({ leaf: rsa.leaf, chain: six }), 403, 'AccessDeniedException', 'CHAIN_TOO_LONG');
      expectRefused(
        await call(leafOf(rsa), { tamper: (r) => void (r.headers['X-Amz-X509-Chain'] = 'AAAA') , signed: undefined }),
        403,
        'AccessDeniedException',
        'CHAIN_MALFORMED',
      );
    });

    it('refuses an expired leaf and a leaf not yet valid', async () => {
      const now = Date.now();
      const expired = await issue({ name: 'expired', kind: 'ec', issuer: ec.root, notBefore: new Date(now - 2 * 864e5), notAfter: new Date(now - 864e5) });
      expectRefused(await call({ leaf: expired }), 403, 'AccessDeniedException', 'CERT_EXPIRED');
      const early = await issue({ name: 'early', kind: 'ec', issuer: ec.root, notBefore: new Date(now + 864e5), notAfter: new Date(now + 2 * 864e5) });
      expectRefused(await call({ leaf: early }), 403, 'AccessDeniedException', 'CERT_NOT_YET_VALID');
    });

    it('judges certificate validity by its injected clock', async () => {
      clock.advance(91 * 864e5); // pki leaves live 90 days
      expectRefused(await call(leafOf(ec)), 403, 'AccessDeniedException', 'CERT_EXPIRED');
    });

    it('refuses an expired intermediate', async () => {
      const now = Date.now();
      const oldInt = await issue({ name: 'Old Intermediate', kind: 'ec', ca: true, issuer: ec.root, notBefore: new Date(now - 3 * 864e5), notAfter: new Date(now - 864e5) });
      const leaf = await issue({ name: 'under-old', kind: 'ec', issuer: oldInt });
      const reply = await call({ leaf, chain: [oldInt] });
      expectRefused(reply, 403, 'AccessDeniedException', 'CERT_EXPIRED');
      expect(reply.json.message).to.include('intermediate CN=Old Intermediate');
    });

    it('refuses a leaf with CA:true', async () => {
      const caLeaf = await issue({ name: 'ca-leaf', kind: 'ec', issuer: ec.root, ca: true, keyUsages: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign });
      expectRefused(await call({ leaf: caLeaf }), 403, 'AccessDeniedException', 'LEAF_IS_CA');
    });

    it('refuses a leaf without the digitalSignature key usage, or without key usage at all', async () => {
      const noDs = await issue({ name: 'no-ds', kind: 'ec', issuer: ec.root, keyUsages: x509.KeyUsageFlags.keyAgreement });
      expectRefused(await call({ leaf: noDs }), 403, 'AccessDeniedException', 'LEAF_NO_DIGITAL_SIGNATURE');
      const noKu = await issue({ name: 'no-ku', kind: 'ec', issuer: ec.root, noKeyUsage: true });
      expectRefused(await call({ leaf: noKu }), 403, 'AccessDeniedException', 'LEAF_NO_DIGITAL_SIGNATURE');
    });

    it('refuses a leaf signed with ECDSA-SHA1 and one signed with RSA-SHA1', async () => {
      const ecSha1 = await issue({ name: 'sha1-ec', kind: 'ec', issuer: ec.root, hash: 'SHA-1' });
      expect(parseCertificate(ecSha1.nodeCert.raw).signatureOid, 'the fixture really is ecdsa-with-SHA1').to.equal('1.2.840.10045.4.1');
      expectRefused(await call({ leaf: ecSha1 }), 403, 'AccessDeniedException', 'LEAF_WEAK_SIGNATURE');
      const rsaSha1 = legacyLeaf(rsa.root, { cn: 'sha1-rsa', version: 3, hash: 'sha1' });
      expect(parseCertificate(rsaSha1.nodeCert.raw).signatureOid, 'the fixture really is sha1WithRSAEncryption').to.equal('1.2.840.113549.1.1.5');
      const reply = await call({ leaf: rsaSha1 });
      expectRefused(reply, 403, 'AccessDeniedException', 'LEAF_WEAK_SIGNATURE');
      expect(reply.json.message).to.include('sha1WithRSAEncryption');
    });

    it('refuses a leaf signed with MD5', async () => {
      const md5 = legacyLeaf(rsa.root, { cn: 'md5', version: 3, hash: 'md5' });
      const reply = await call({ leaf: md5 });
      expectRefused(reply, 403, 'AccessDeniedException', 'LEAF_WEAK_SIGNATURE');
      expect(reply.json.message).to.include('md5WithRSAEncryption');
    });

    it('refuses an X.509 v1 leaf', async () => {
      expectRefused(await call({ leaf: legacyLeaf(rsa.root, { cn: 'v1', version: 1, hash: 'sha256' }) }), 403, 'AccessDeniedException', 'LEAF_NOT_V3');
    });

    it('refuses an intermediate that is not a CA', async () => {
      const notCa = await issue({ name: 'Not A CA', kind: 'ec', issuer: ec.root, keyUsages: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign });
      const leaf = await issue({ name: 'under-not-ca', kind: 'ec', issuer: notCa });
      expectRefused(await call({ leaf, chain: [notCa] }), 403, 'AccessDeniedException', 'INTERMEDIATE_NOT_CA');
    });

    it('refuses an intermediate without keyCertSign', async () => {
      const noSign = await issue({ name: 'No CertSign', kind: 'ec', ca: true, issuer: ec.root, keyUsages: x509.KeyUsageFlags.cRLSign });
      const leaf = await issue({ name: 'under-no-certsign', kind: 'ec', issuer: noSign });
      expectRefused(await call({ leaf, chain: [noSign] }), 403, 'AccessDeniedException', 'INTERMEDIATE_NO_KEY_CERT_SIGN');
    });
  });

  describe('resource and policy rejections', () => {
    const other = (arn: string, id: string) => arn.replace(/\/[0-9a-f-]{36}$/, `/${id}`);
    const UNKNOWN_ID = 'deadbeef-0000-4000-8000-000000000000';

    it('refuses an unknown trust anchor, profile and role with 403', async () => {
      expectRefused(await call(leafOf(rsa), { query: arnQuery(other(TA, UNKNOWN_ID)) }), 403, 'AccessDeniedException', 'TRUST_ANCHOR_UNKNOWN');
      expectRefused(await call(leafOf(rsa), { query: arnQuery(TA, other(PROFILE, UNKNOWN_ID)) }), 403, 'AccessDeniedException', 'PROFILE_UNKNOWN');
      expectRefused(await call(leafOf(rsa), { query: arnQuery(TA, PROFILE, `arn:aws:iam::${ACCOUNT}:role/nobody`) }), 403, 'AccessDeniedException', 'ROLE_UNKNOWN');
    });

    for (const name of PROTOTYPE_NAMES) {
      it(`answers a role named "${name}" as unknown (403), and a trust anchor or profile id "${name}" as no UUID (400), never a crash`, async () => {
        expectRefused(await call(leafOf(rsa), { query: arnQuery(TA, PROFILE, `arn:aws:iam::${ACCOUNT}:role/${name}`) }), 403, 'AccessDeniedException', 'ROLE_UNKNOWN');
        expectRefused(await call(leafOf(rsa), { query: arnQuery(other(TA, name)) }), 400, 'ValidationException', 'ARN_INVALID');
        expectRefused(await call(leafOf(rsa), { query: arnQuery(TA, other(PROFILE, name)) }), 400, 'ValidationException', 'ARN_INVALID');
      });
    }

    it('refuses a disabled trust anchor and a disabled profile', async () => {
      emu.config.trustAnchors[0]!.enabled = false;
      expectRefused(await call(leafOf(rsa)), 403, 'AccessDeniedException', 'TRUST_ANCHOR_DISABLED');
      emu.config.trustAnchors[0]!.enabled = true;
      emu.config.profiles[0]!.enabled = false;
      expectRefused(await call(leafOf(rsa)), 403, 'AccessDeniedException', 'PROFILE_DISABLED');
    });

    it('refuses a role the profile does not list', async () => {
      expectRefused(await call(leafOf(rsa), { query: arnQuery(TA, PROFILE, ROLE2) }), 403, 'AccessDeniedException', 'ROLE_NOT_IN_PROFILE');
    });

    it('refuses a role whose trust policy does not allow the trust anchor', async () => {
      expectRefused(await call(leafOf(rsa), { query: arnQuery(TA, PROFILE2, ROLE2) }), 403, 'AccessDeniedException', 'ROLE_NOT_TRUSTING_ANCHOR');
    });

    for (const d of [899, 43201, 3600.5, '3600', -1]) {
      it(`refuses durationSeconds ${JSON.stringify(d)} with 400`, async () => {
        expectRefused(await call(leafOf(rsa), { body: { durationSeconds: d } }), 400, 'ValidationException', 'DURATION_INVALID');
      });
    }

    it('refuses a roleSessionName when the profile does not accept one, as the service does', async () => {
      const reply = await call(leafOf(rsa), { body: { durationSeconds: 900, roleSessionName: 'alice' } });
      expectRefused(reply, 403, 'AccessDeniedException', 'SESSION_NAME_NOT_ACCEPTED');
      expect(reply.json.message).to.equal('Not authorized to set roleSessionName.');
    });

    for (const name of ['a', 'x'.repeat(65), 'has space', 'semi;colon']) {
      it(`refuses the roleSessionName ${JSON.stringify(name.length > 10 ? name.slice(0, 10) + '…' : name)} with 400`, async () => {
        expectRefused(await call(leafOf(rsa), { query: arnQuery(TA, PROFILE2, ROLE), body: { roleSessionName: name } }), 400, 'ValidationException', 'SESSION_NAME_INVALID');
      });
    }

    it('refuses ARNs that differ between the query string and the body', async () => {
      const reply = await call(leafOf(rsa), { body: { durationSeconds: 900, roleArn: ROLE2 } });
      expectRefused(reply, 400, 'ValidationException', 'ARN_CONFLICT');
    });

    it('refuses a missing ARN and a malformed one with 400', async () => {
      expectRefused(await call(leafOf(rsa), { query: arnQuery().slice(0, 2) }), 400, 'ValidationException', 'ARN_MISSING');
      expectRefused(await call(leafOf(rsa), { query: arnQuery(TA, PROFILE, 'arn:aws:iam::1:user/x') }), 400, 'ValidationException', 'ARN_INVALID');
    });

    it('refuses a body that is not JSON and a Content-Type that is not application/json', async () => {
      expectRefused(await call(leafOf(rsa), { body: '{durationSeconds:' }), 400, 'ValidationException', 'BODY_MALFORMED');
      expectRefused(await call(leafOf(rsa), { contentType: 'text/plain' }), 400, 'ValidationException', 'CONTENT_TYPE');
    });

    it('answers 404 for anything but POST /sessions', async () => {
      expectRefused(await call(leafOf(rsa), { path: '/session' }), 404, 'UnknownOperationException', 'UNKNOWN_OPERATION');
      expectRefused(await call(leafOf(rsa), { method: 'PUT' }), 404, 'UnknownOperationException', 'UNKNOWN_OPERATION');
    });
  });
});

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
