import { expect } from 'chai';
import { AgentError } from '../../src/errors.js';
import { createSession, prepareSession, type CreateSessionOptions } from '../../src/rolesanywhere/client.js';
import { resolveEndpoint } from '../../src/rolesanywhere/endpoint.js';
import { parseSessionReply, replyToError } from '../../src/rolesanywhere/reply.js';
import { classifyNetworkError } from '../../src/rolesanywhere/network-errors.js';
import type { HttpReply, Transport } from '../../src/rolesanywhere/transport.js';
import { ManualClock } from '../../src/time/clock.js';
import { memorySigner } from '../helpers/signer.js';
import { KAT_RSA_CERT, KAT_RSA_KEY } from './fixtures/kat-material.js';

const NOW = Date.UTC(2026, 10, 22, 1, 0, 0);
const TA = 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/2b7f1a3c-4d5e-4f60-8a9b-0c1d2e3f4a5b';
const PR = 'arn:aws:rolesanywhere:eu-west-1:111122223333:profile/6c7d8e9f-0a1b-4c2d-9e3f-4a5b6c7d8e9f';
const ROLE = 'arn:aws:iam::111122223333:role/app';
const base: CreateSessionOptions = { trustAnchorArn: TA, profileArn: PR, roleArn: ROLE, durationSeconds: 3600 };

function ok(expiration = new Date(NOW + 3600_000).toISOString()): HttpReply {
  return {
    status: 201,
    headers: { 'x-amzn-requestid': 'req-1' },
    body: JSON.stringify({
      credentialSet: [
        {
          credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'SECRET/abc+def', sessionToken: 'TOKEN==', expiration },
          sourceIdentity: 'CN=test',
          assumedRoleUser: { arn: 'arn:aws:sts::111122223333:assumed-role/app/x' },
        },
      ],
    }),
  };
}
function fail(status: number, type: string, message: string, headers: Record<string, string> = {}): HttpReply {
  return { status, headers: { 'x-amzn-errortype': type, ...headers }, body: JSON.stringify({ message }) };
}

class ScriptedTransport implements Transport {
  calls: { url: string; headers: Record<string, string>; body: string }[] = [];
  constructor(private readonly script: Array<HttpReply | Error>) {}
  async post(url: string, headers: Record<string, string>, body: string): Promise<HttpReply> {
    this.calls.push({ url, headers, body });
    const next = this.script.shift();
    if (!next) throw new Error('script exhausted');
    if (next instanceof Error) throw next;
    return next;
  }
  async close() {}
}

function deps(t: Transport, sleeps: number[] = []) {
  return { transport: t, clock: new ManualClock(NOW), random: () => 0.5, sleep: async (ms: number) => void sleeps.push(ms) };
}
const signer = memorySigner(KAT_RSA_CERT, KAT_RSA_KEY);

describe('CreateSession client', () => {
  it('returns the credentials of a 201 reply with the expiration as a Date', async () => {
    const t = new ScriptedTransport([ok()]);
    const r = await createSession(signer, base, deps(t));
    expect(r.credentials).to.deep.equal({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'SECRET/abc+def',
      sessionToken: 'TOKEN==',
      expiration: new Date(NOW + 3600_000),
    });
    expect(r.sourceIdentity).to.equal('CN=test');
    expect(t.calls[0]!.url).to.match(/^https:\/\/rolesanywhere\.eu-west-1\.amazonaws\.com\/sessions\?profileArn=/);
  });

  it('retries throttling and 5xx with growing full-jitter delays, then succeeds', async () => {
    const sleeps: number[] = [];
    const t = new ScriptedTransport([fail(429, 'ThrottlingException', 'Rate exceeded'), fail(503, 'ServiceUnavailable', 'x'), ok()]);
    const r = await createSession(signer, base, deps(t, sleeps));
    expect(r.credentials.accessKeyId).to.equal('ASIAEXAMPLE');
    expect(t.calls).to.have.length(3);
    expect(sleeps).to.deep.equal([100, 200]); // random 0.5 × 200·2^n
    expect(t.calls[0]!.headers['x-amz-date']).to.equal('20261122T010000Z');
  });

  it('retries a network reset and gives up after the attempt limit with the last error', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const net = new ScriptedTransport([1, 2, 3].map(() => classifyNetworkError(reset, 'https://h')));
    const err = await createSession(signer, { ...base, retry: { maxAttempts: 3 } }, deps(net)).catch((e) => e);
    expect(err).to.be.instanceOf(AgentError);
    expect(err.code).to.equal('NETWORK');
    expect(err.retryable).to.equal(true);
    expect(err.message).to.include('gave up after 3 attempts');
    expect(net.calls).to.have.length(3);
  });

  it('never retries AccessDenied and keeps the service message with a hint', async () => {
    const t = new ScriptedTransport([fail(403, 'AccessDeniedException', 'Untrusted signing certificate', { 'x-amzn-requestid': 'abc-123' }), ok()]);
    const err = await createSession(signer, base, deps(t)).catch((e) => e);
    expect(err.code).to.equal('ACCESS_DENIED');
    expect(err.retryable).to.equal(false);
    expect(err.message).to.include('Untrusted signing certificate');
    expect(err.requestId).to.equal('abc-123');
    expect(err.hint).to.include('intermediates');
    expect(t.calls).to.have.length(1);
  });

  it('maps 400, 404 and a skewed clock to their own codes', () => {
    expect(replyToError(fail(400, 'ValidationException', 'bad duration'), NOW, 'x').code).to.equal('VALIDATION');
    expect(replyToError(fail(404, 'ResourceNotFoundException', 'no such profile'), NOW, 'x').code).to.equal('RESOURCE_NOT_FOUND');
    const skewed = replyToError(
      fail(403, 'AccessDeniedException', 'Signature expired', { date: new Date(NOW - 20 * 60_000).toUTCString() }),
      NOW,
      'x',
    );
    expect(skewed.code).to.equal('CLOCK_SKEW');
    expect(skewed.hint).to.include('1200 s apart');
  });

  it('rejects a success reply whose credentials are incomplete or already expired', () => {
    const missing: HttpReply = { status: 201, headers: {}, body: JSON.stringify({ credentialSet: [{ credentials: { accessKeyId: 'A' } }] }) };
    expect(() => parseSessionReply(missing, NOW, 'p')).to.throw(/lack secretAccessKey, sessionToken, expiration/);
    expect(() => parseSessionReply(ok(new Date(NOW - 1000).toISOString()), NOW, 'p')).to.throw(/not in the future/);
    expect(() => parseSessionReply(ok('soon'), NOW, 'p')).to.throw(/is not a full ISO 8601 timestamp/);
    expect(() => parseSessionReply({ status: 201, headers: {}, body: '<html>' }, NOW, 'p')).to.throw(/not a JSON object/);
    expect(() => parseSessionReply({ status: 201, headers: {}, body: '{"credentialSet":[]}' }, NOW, 'p')).to.throw(/missing or empty/);
  });

  it('checks the request before signing: ARNs, duration, role session name', () => {
    expect(() => prepareSession({ ...base, roleArn: 'arn:aws:iam::1:role' })).to.throw(AgentError, /role_arn/);
    expect(() => prepareSession({ ...base, durationSeconds: 899 })).to.throw(/outside 900–43200/);
    expect(() => prepareSession({ ...base, durationSeconds: 43201 })).to.throw(/outside 900–43200/);
    expect(() => prepareSession({ ...base, roleSessionName: 'a' })).to.throw(/role session name/);
    expect(() =>
      prepareSession({ ...base, profileArn: PR.replace('eu-west-1', 'us-east-1') }),
    ).to.throw(/same partition and region/);
  });
});

describe('endpoint resolution', () => {
  it('takes the region and partition suffix from the trust anchor', () => {
    expect(resolveEndpoint({ region: 'eu-west-1', partition: 'aws' }).url).to.equal('https://rolesanywhere.eu-west-1.amazonaws.com');
    expect(resolveEndpoint({ region: 'cn-north-1', partition: 'aws-cn' }).url).to.equal('https://rolesanywhere.cn-north-1.amazonaws.com.cn');
    expect(resolveEndpoint({ region: 'us-gov-west-1', partition: 'aws-us-gov' }).url).to.equal('https://rolesanywhere.us-gov-west-1.amazonaws.com');
  });
  it('uses the FIPS host but keeps the plain signing region', () => {
    const e = resolveEndpoint({ region: 'us-east-1', partition: 'aws', fips: true });
    expect(e).to.deep.equal({ url: 'https://rolesanywhere-fips.us-east-1.amazonaws.com', signingRegion: 'us-east-1', source: 'partition' });
  });
  it('prefers --endpoint, then AWS_ENDPOINT_URL_ROLESANYWHERE, then AWS_ENDPOINT_URL', () => {
    const env = { AWS_ENDPOINT_URL_ROLESANYWHERE: 'http://127.0.0.1:1/', AWS_ENDPOINT_URL: 'http://127.0.0.1:2' };
    expect(resolveEndpoint({ region: 'eu-west-1', partition: 'aws', endpoint: 'https://x.test/', env }).url).to.equal('https://x.test');
    expect(resolveEndpoint({ region: 'eu-west-1', partition: 'aws', env }).url).to.equal('http://127.0.0.1:1');
    expect(resolveEndpoint({ region: 'eu-west-1', partition: 'aws', env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:2' } }).source).to.equal('AWS_ENDPOINT_URL');
  });
  it('refuses a malformed region or endpoint with a hint', () => {
    expect(() => resolveEndpoint({ region: 'Europe', partition: 'aws' })).to.throw(/not an AWS region name/);
    expect(() => resolveEndpoint({ region: 'eu-west-1', partition: 'aws', endpoint: 'ftp://x' })).to.throw(/must use https/);
  });
});

describe('hints for refusals', () => {
  const denied = (message: string) => replyToError({ status: 403, headers: { 'x-amzn-errortype': 'AccessDeniedException' }, body: JSON.stringify({ message }) }, NOW, 'p');
  it('a region mismatch points at --region, not at the signature', () => {
    expect(denied("Credential should be scoped to a valid region: the trust anchor is in us-east-1, the signature is scoped to 'eu-west-1'").hint).to.match(/trust anchor's region/);
  });
  it('a refused role session name says the profile does not accept one', () => {
    expect(denied('Not authorized to set roleSessionName.').hint).to.match(/does not accept custom role session names/);
  });
  it('an untrusted certificate points at the intermediates and the trust anchor', () => {
    expect(denied('Untrusted signing certificate').hint).to.match(/intermediates/);
  });
});
