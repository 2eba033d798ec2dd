/**
 * The credential endpoints in-process, over a fake credential cache (the agent's edge) and a manual
 * clock: what they answer when a profile has no valid credentials, that a refresh shows at once,
 * IMDS session-token expiry, unix sockets and token files with their modes, and HTTPS.
 */
import { expect } from 'chai';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { JobSnapshot } from '../../src/agent/job.js';
import type { ServeSettings } from '../../src/config/index.js';
import type { Credentials } from '../../src/credentials.js';
import { AgentError } from '../../src/errors.js';
import { generateTlsIdentity } from '../../src/emulator/tls.js';
import { silentLog } from '../../src/log/logger.js';
import { CredentialEndpoints, type CredentialCache, type Outcome } from '../../src/serve/index.js';
import { ManualClock } from '../../src/time/clock.js';
import { makeTempDir } from '../helpers/tmp.js';

const T0 = Date.parse('2026-12-06T08:00:00Z');

interface Reply {
  status: number;
  body: string;
}

function call(target: { url: string } | { socket: string }, path: string, o: { method?: string; headers?: Record<string, string>; ca?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const base: RequestOptions = { path, method: o.method ?? 'GET', headers: o.headers ?? {} };
    let req;
    if ('socket' in target) req = httpRequest({ ...base, socketPath: target.socket }, done);
    else {
      const u = new URL(target.url);
      const opts = { ...base, host: u.hostname, port: u.port };
      req = u.protocol === 'https:' ? httpsRequest({ ...opts, ca: o.ca }, done) : httpRequest(opts, done);
    }
    function done(res: import('node:http').IncomingMessage) {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }
    req.on('error', reject);
    req.end();
  });
}

function creds(id: string, expiresAt: number): Credentials {
  return { accessKeyId: `ASIA${id}`, secretAccessKey: `secret-${id}`, sessionToken: `token-${id}`, expiration: new Date(expiresAt) };
}

class FakeCache implements CredentialCache {
  readonly entries = new Map<string, { current?: { credentials: Credentials; issuedAt: number }; snapshot: Partial<JobSnapshot> }>();
  cached(name: string) {
    const e = this.entries.get(name);
    return e && { current: e.current, snapshot: () => ({ name, state: 'pending', consecutiveFailures: 0, refreshes: 0, inFlight: false, specHash: '', ...e.snapshot }) as JobSnapshot };
  }
}

describe('serve: the endpoints in-process', () => {
  let dir: string;
  let cleanup: () => void;
  let clock: ManualClock;
  let cache: FakeCache;
  let counted: Array<[string, string, Outcome]>;
  const open: CredentialEndpoints[] = [];
  const regions = new Map([['app', 'eu-west-1'], ['other', 'ap-southeast-2']]);

  const start = async (settings: ServeSettings) => {
    const e = await CredentialEndpoints.start(settings, {
      cache,
      clock,
      log: silentLog,
      profiles: () => [...cache.entries.keys()],
      accountOf: () => '111122223333',
      regionOf: (p) => regions.get(p),
      count: (a, b, c) => counted.push([a, b, c]),
    });
    open.push(e);
    return e;
  };
  const tcp = (): ServeSettings => ({
    ecs: { listen: '127.0.0.1:0', target: { host: '127.0.0.1', port: 0 }, tokenDir: join(dir, 'tokens') },
    imds: { listen: '127.0.0.1:0', target: { host: '127.0.0.1', port: 0 }, profile: 'app' },
  });
  const urlOf = (e: CredentialEndpoints, which: 'ecs' | 'imds') => ({ url: e.listeners().find((l) => l.endpoint === which)!.address });
  const imdsToken = async (target: { url: string } | { socket: string }, ttl = '60') => (await call(target, '/latest/api/token', { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': ttl } })).body;

  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir('ra-serve-'));
    clock = new ManualClock(T0);
    cache = new FakeCache();
    counted = [];
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
    cleanup();
  });

  it('answers 503 with the reason, never credentials, while a profile has none or only expired ones', async () => {
    cache.entries.set('app', { snapshot: { state: 'backing-off', lastError: { code: 'ACCESS_DENIED', message: 'AccessDeniedException: no trust', at: '' } } });
    cache.entries.set('old', { current: { credentials: creds('OLD', T0 - 1), issuedAt: T0 - 3_600_000 }, snapshot: { state: 'expired' } });
    const e = await start(tcp());
    const token = (p: string) => readFileSync(join(dir, 'tokens', `${p}.token`), 'utf8');
    const none = await call(urlOf(e, 'ecs'), '/v1/credentials/app', { headers: { Authorization: token('app') } });
    const expired = await call(urlOf(e, 'ecs'), '/v1/credentials/old', { headers: { Authorization: token('old') } });
    expect([none.status, expired.status], 'ECS statuses').to.deep.equal([503, 503]);
    expect(JSON.parse(none.body).message).to.equal('profile "app" has no credentials yet (waiting for the first refresh); last refresh failed: ACCESS_DENIED: AccessDeniedException: no trust');
    expect(JSON.parse(expired.body).message).to.equal('profile "old": its credentials expired at 2026-12-06T07:59:59Z and no refresh has succeeded since');
    expect(expired.body, 'no expired credentials in the answer').to.not.include('ASIAOLD');
    const h = { headers: { 'X-aws-ec2-metadata-token': await imdsToken(urlOf(e, 'imds')) } };
    const imds = await call(urlOf(e, 'imds'), '/latest/meta-data/iam/security-credentials/app', h);
    expect([imds.status, JSON.parse(imds.body).Code], 'IMDS without credentials').to.deep.equal([503, 'CredentialsUnavailable']);
    expect(counted.filter((c) => c[2] === 'unavailable'), 'counted as unavailable').to.deep.equal([['ecs', 'app', 'unavailable'], ['ecs', 'old', 'unavailable'], ['imds', 'app', 'unavailable']]);
  });

  it('serves a refreshed credential at once, with LastUpdated from when it came', async () => {
    cache.entries.set('app', { current: { credentials: creds('ONE', T0 + 3_600_000), issuedAt: T0 }, snapshot: {} });
    const e = await start(tcp());
    const auth = { headers: { Authorization: readFileSync(join(dir, 'tokens', 'app.token'), 'utf8') } };
    expect(JSON.parse((await call(urlOf(e, 'ecs'), '/v1/credentials/app', auth)).body)).to.deep.equal({
      AccessKeyId: 'ASIAONE',
      SecretAccessKey: 'secret-ONE',
      Token: 'token-ONE',
      Expiration: '2026-12-06T09:00:00Z',
      AccountId: '111122223333',
    });
    cache.entries.get('app')!.current = { credentials: creds('TWO', T0 + 7_200_000), issuedAt: T0 + 60_000 };
    expect(JSON.parse((await call(urlOf(e, 'ecs'), '/v1/credentials/app', auth)).body).AccessKeyId, 'ECS after the refresh').to.equal('ASIATWO');
    const h = { headers: { 'X-aws-ec2-metadata-token': await imdsToken(urlOf(e, 'imds')) } };
    const doc = JSON.parse((await call(urlOf(e, 'imds'), '/latest/meta-data/iam/security-credentials/app', h)).body);
    expect([doc.AccessKeyId, doc.LastUpdated, doc.Expiration], 'IMDS after the refresh').to.deep.equal(['ASIATWO', '2026-12-06T08:01:00Z', '2026-12-06T10:00:00Z']);
  });

  it('IMDS: answers /latest/meta-data/placement/region with the served profile\'s region (token required), following a switch of profile', async () => {
    cache.entries.set('app', { current: { credentials: creds('ONE', T0 + 3_600_000), issuedAt: T0 }, snapshot: {} });
    cache.entries.set('other', { current: { credentials: creds('TWO', T0 + 3_600_000), issuedAt: T0 }, snapshot: {} });
    const e = await start(tcp());
    const target = urlOf(e, 'imds');
    expect((await call(target, '/latest/meta-data/placement/region')).status, 'without a token').to.equal(401);
    const h = { headers: { 'X-aws-ec2-metadata-token': await imdsToken(target) } };
    const first = await call(target, '/latest/meta-data/placement/region', h);
    expect([first.status, first.body], 'the region of profile app').to.deep.equal([200, 'eu-west-1']);
    await e.reload({ ...tcp(), imds: { ...tcp().imds!, profile: 'other' } });
    const after = await call(target, '/latest/meta-data/placement/region', h);
    expect([after.status, after.body], 'the region of profile other, after the reload').to.deep.equal([200, 'ap-southeast-2']);
    expect(counted.filter((c) => c[0] === 'imds' && c[2] === 'success').map((c) => c[1]), 'counted as successes for the profile').to.deep.equal(['app', 'other']);
  });

  it('IMDS: a session token stops working when its TTL runs out', async () => {
    cache.entries.set('app', { current: { credentials: creds('ONE', T0 + 3_600_000), issuedAt: T0 }, snapshot: {} });
    const e = await start(tcp());
    const h = { headers: { 'X-aws-ec2-metadata-token': await imdsToken(urlOf(e, 'imds'), '2') } };
    expect((await call(urlOf(e, 'imds'), '/latest/meta-data/iam/security-credentials/', h)).status, 'within the TTL').to.equal(200);
    clock.advance(2_000);
    expect((await call(urlOf(e, 'imds'), '/latest/meta-data/iam/security-credentials/', h)).status, 'at the end of the TTL').to.equal(401);
  });

  it('ECS: tokens are new at each start, in files 0600 in a directory it makes 0700; a directory others can write is refused', async () => {
    cache.entries.set('app', { snapshot: {} });
    const first = await start(tcp());
    const a = readFileSync(join(dir, 'tokens', 'app.token'), 'utf8');
    expect((statSync(join(dir, 'tokens')).mode & 0o777).toString(8), 'token_dir mode').to.equal('700');
    expect((statSync(join(dir, 'tokens', 'app.token')).mode & 0o777).toString(8), 'token file mode').to.equal('600');
    await first.close();
    open.splice(0);
    const second = await start(tcp());
    const b = readFileSync(join(dir, 'tokens', 'app.token'), 'utf8');
    expect(b, 'a new token after a restart').to.not.equal(a);
    expect((await call(urlOf(second, 'ecs'), '/v1/credentials/app', { headers: { Authorization: a } })).status, 'the old token').to.equal(403);
    await second.close();
    open.splice(0);
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const err = await start({ ecs: { ...tcp().ecs!, tokenDir: shared } }).catch((x: unknown) => x);
    expect(err instanceof AgentError && [err.code, err.message], 'a world-writable token_dir').to.deep.equal(['CONFIG_INVALID', `serve.ecs.token_dir: ${shared} is writable by others (mode 777), who could swap the token files`]);
  });

  it('a reload gives an added profile a token, deletes a removed one\'s, writes deleted files again and switches the IMDS profile', async () => {
    cache.entries.set('app', { current: { credentials: creds('APP', T0 + 3_600_000), issuedAt: T0 }, snapshot: {} });
    cache.entries.set('gone', { snapshot: {} });
    const settings = tcp();
    const e = await start(settings);
    const file = (p: string) => join(dir, 'tokens', `${p}.token`);
    const app = readFileSync(file('app'), 'utf8');
    const gone = readFileSync(file('gone'), 'utf8');
    cache.entries.delete('gone');
    cache.entries.set('new', { current: { credentials: creds('NEW', T0 + 3_600_000), issuedAt: T0 }, snapshot: {} });
    rmSync(file('app'));
    await e.reload({ ...settings, imds: { ...settings.imds!, profile: 'new' } });
    expect(readFileSync(file('app'), 'utf8'), 'app keeps its token, its file written again').to.equal(app);
    expect(existsSync(file('gone')), 'the removed profile\'s token file').to.equal(false);
    const gets = {
      gone: (await call(urlOf(e, 'ecs'), '/v1/credentials/gone', { headers: { Authorization: gone } })).status,
      new: (await call(urlOf(e, 'ecs'), '/v1/credentials/new', { headers: { Authorization: readFileSync(file('new'), 'utf8') } })).status,
    };
    expect(gets, 'ECS after the reload').to.deep.equal({ gone: 403, new: 200 });
    const h = { headers: { 'X-aws-ec2-metadata-token': await imdsToken(urlOf(e, 'imds')) } };
    expect((await call(urlOf(e, 'imds'), '/latest/meta-data/iam/security-credentials/', h)).body, 'the IMDS profile after the reload').to.equal('new');
  });

  it('listens on unix sockets made 0600 in a 0700 directory, and refuses a directory others can write', async () => {
    cache.entries.set('app', { current: { credentials: creds('ONE', T0 + 3_600_000), issuedAt: T0 }, snapshot: {} });
    const sockets = join(dir, 'run');
    const settings: ServeSettings = {
      ecs: { listen: `unix:${sockets}/ecs.sock`, target: { socket: join(sockets, 'ecs.sock') }, tokenDir: join(dir, 'tokens') },
      imds: { listen: `unix:${sockets}/imds.sock`, target: { socket: join(sockets, 'imds.sock') }, profile: 'app' },
    };
    const e = await start(settings);
    expect(e.listeners().map((l) => l.address)).to.deep.equal([`unix:${sockets}/ecs.sock`, `unix:${sockets}/imds.sock`]);
    expect((statSync(sockets).mode & 0o777).toString(8), 'socket directory mode').to.equal('700');
    expect((statSync(join(sockets, 'ecs.sock')).mode & 0o777).toString(8), 'socket mode').to.equal('600');
    const r = await call({ socket: join(sockets, 'ecs.sock') }, '/v1/credentials/app', { headers: { Authorization: readFileSync(join(dir, 'tokens', 'app.token'), 'utf8') } });
    expect(r.status, r.body).to.equal(200);
    const t = await imdsToken({ socket: join(sockets, 'imds.sock') });
    expect((await call({ socket: join(sockets, 'imds.sock') }, '/latest/meta-data/iam/security-credentials/', { headers: { 'X-aws-ec2-metadata-token': t } })).body).to.equal('app');
    const open2 = join(dir, 'open');
    mkdirSync(open2);
    chmodSync(open2, 0o777);
    const err = await start({ imds: { listen: `unix:${open2}/i.sock`, target: { socket: join(open2, 'i.sock') }, profile: 'app' } }).catch((x: unknown) => x);
    expect(err instanceof AgentError && err.code, 'a socket in a world-writable directory').to.equal('CONFIG_INVALID');
  });

  it('serves HTTPS with tls:, and the token is still required', async () => {
    cache.entries.set('app', { current: { credentials: creds('ONE', T0 + 3_600_000), issuedAt: T0 }, snapshot: {} });
    const id = await generateTlsIdentity();
    writeFileSync(join(dir, 'serve.pem'), id.certPem, { mode: 0o600 });
    writeFileSync(join(dir, 'serve.key'), id.keyPem, { mode: 0o600 });
    const tls = { certificate: join(dir, 'serve.pem'), privateKey: join(dir, 'serve.key') };
    const e = await start({ ecs: { ...tcp().ecs!, tls } });
    const target = urlOf(e, 'ecs');
    expect(target.url, 'the address').to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await call(target, '/v1/credentials/app', { ca: id.caPem })).status, 'without the token').to.equal(401);
    const ok = await call(target, '/v1/credentials/app', { ca: id.caPem, headers: { Authorization: readFileSync(join(dir, 'tokens', 'app.token'), 'utf8') } });
    expect([ok.status, JSON.parse(ok.body).AccessKeyId]).to.deep.equal([200, 'ASIAONE']);
  });
});
