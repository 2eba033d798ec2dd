/**
 * The credential endpoints of a real `run` process, used by the real consumers: the Debian AWS CLI
 * v2, boto3 (Debian's python3-boto3, through /usr/bin/python3) and the JS SDK v3 default provider
 * chain. Their STS calls go to a local stand-in that checks each SigV4 signature with the secret
 * the emulator issued, so a call succeeds only with fresh credentials the agent really served.
 * The emulator issues 45 s credentials (the agent refreshes them 30 s after issue), and the four
 * long-running consumers (boto3 and JS, each through ECS and IMDS) run for 70 s in the background
 * while the refusal tests go on: they must cross at least two refreshes without one failed call.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { METRIC_PREFIX } from '../../src/observability/metrics.js';
import { makeWorld, roleArn, type World } from '../helpers/world.js';
import { allOutput, cleanEnv, ensureBuilt, killAll, readCredentials, REPO, runCli, spawnAgent, waitFor, type AgentProcess, type LogRecord } from '../agent/fixtures/agent-process.js';
import { scheduleDoc, writeSchedule } from '../agent/fixtures/schedule.js';
import { startStsStandIn, type StsStandIn } from '../helpers/sts-standin.js';

const AWS = '/usr/bin/aws';
const PYTHON = '/usr/bin/python3';
const LIFETIME_S = 45;
const CONSUMER_SECONDS = 70;

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function http(url: string, path: string, o: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: o.method ?? 'GET', headers: o.headers ?? {} }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Consumer {
  name: string;
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: string;
  exited: Promise<number | null>;
  sts: StsStandIn;
}

describe('serve: a running agent hands its credentials to long-running SDK clients', function () {
  this.timeout(60_000);
  let w: World;
  let agent: AgentProcess;
  let ecsUrl: string;
  let imdsUrl: string;
  let httpUrl: string;
  let tokenDir: string;
  let credentialsFile: string;
  let schedulePath: string;
  let consumerEnv: NodeJS.ProcessEnv;
  const stands: StsStandIn[] = [];
  const consumers: Consumer[] = [];
  let consumersStarted = 0;

  const token = (profile: string) => readFileSync(join(tokenDir, `${profile}.token`), 'utf8').trim();
  const sts = async () => {
    const s = await startStsStandIn(() => w.emulator.issued);
    stands.push(s);
    return s;
  };
  const ecsEnv = (profile = 'app', tok = token(profile)) => ({ ...consumerEnv, AWS_CONTAINER_CREDENTIALS_FULL_URI: `${ecsUrl}/v1/credentials/${profile}`, AWS_CONTAINER_AUTHORIZATION_TOKEN: tok });
  const imdsEnv = () => ({ ...consumerEnv, AWS_EC2_METADATA_SERVICE_ENDPOINT: `${imdsUrl}/` });

  const startConsumer = async (name: string, command: string, args: (stsUrl: string) => string[], env: NodeJS.ProcessEnv): Promise<void> => {
    const s = await sts();
    const child = spawn(command, args(s.url), { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const c: Consumer = { name, child, lines: [], stderr: '', sts: s, exited: new Promise((r) => child.on('exit', (code) => r(code))) };
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const l of parts) if (l.trim()) c.lines.push(JSON.parse(l) as Record<string, unknown>);
    });
    child.stderr!.on('data', (d: Buffer) => (c.stderr += d.toString()));
    consumers.push(c);
  };

  before(async function () {
    this.timeout(120_000);
    for (const tool of [AWS, PYTHON]) if (!existsSync(tool)) throw new Error(`${tool} is missing: these tests need Debian's awscli and python3-boto3`);
    ensureBuilt();
    w = await makeWorld({ roles: ['app', 'backup'].map(roleArn) });
    w.emulator.faults.shortLived(LIFETIME_S);
    credentialsFile = join(w.dir, 'aws', 'credentials');
    tokenDir = join(w.dir, 'run', 'tokens');
    schedulePath = writeSchedule(
      join(w.dir, 'schedule.yaml'),
      scheduleDoc(w, credentialsFile, { app: { role: 'app', key: w.rsaFiles }, backup: { role: 'backup', key: w.ecFiles } }, {
        http: { listen: '127.0.0.1:0' },
        serve: { ecs: { listen: '127.0.0.1:0', token_dir: tokenDir }, imds: { listen: '127.0.0.1:0', profile: 'app' } },
      }),
    );
    agent = spawnAgent(['run', '--config', schedulePath, '--log-format', 'json', '--log-level', 'debug'], cleanEnv(w.dir));
    const addressOf = async (endpoint: string) => (await agent.waitForLog((r: LogRecord) => r.message === `${endpoint} credential endpoint started`, { timeoutMs: 30_000 })).address as string;
    ecsUrl = await addressOf('ecs');
    imdsUrl = await addressOf('imds');
    httpUrl = ((await agent.waitForLog((r) => r.message === 'observability listener started')).url as string);
    await waitFor(() => {
      const c = existsSync(credentialsFile) && readCredentials(credentialsFile);
      return c && c.size === 2;
    }, 'both profiles in the credentials file', { timeoutMs: 30_000 });
    // A consumer sees only what is given here: no credentials or config file, HOME in the temp dir.
    consumerEnv = {
      PATH: '/usr/bin:/bin',
      HOME: w.dir,
      LANG: 'C.UTF-8',
      AWS_CONFIG_FILE: join(w.dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(w.dir, 'no-aws-credentials'),
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
    };
    consumersStarted = Date.now();
    const boto = (s: string, seconds = CONSUMER_SECONDS) => [join(REPO, 'test/serve/fixtures/boto3-consumer.py'), s, String(seconds), '1'];
    const js = (s: string) => ['--import', 'tsx', join(REPO, 'test/serve/fixtures/js-consumer.ts'), s, String(CONSUMER_SECONDS), '1'];
    await startConsumer('boto3 via ECS', PYTHON, boto, ecsEnv());
    // botocore holds IMDS credentials that expire within 17-25 minutes for another 2-10 minutes
    // (its "expiration extension"), so 45 s credentials cannot cross a refresh through IMDS with
    // boto3: this consumer runs briefly; the README says to keep before_expiry at 15m or more.
    await startConsumer('boto3 via IMDS (short)', PYTHON, (s) => boto(s, 8), imdsEnv());
    // Newer SDKs read the token from a file: the JS SDK gets the file, not the token.
    const { AWS_CONTAINER_AUTHORIZATION_TOKEN: _inline, ...jsEcsEnv } = { ...ecsEnv(), AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: join(tokenDir, 'app.token') };
    await startConsumer('JS SDK via ECS', process.execPath, js, jsEcsEnv);
    await startConsumer('JS SDK via IMDS', process.execPath, js, imdsEnv());
  });

  after(async () => {
    for (const c of consumers) c.child.kill('SIGKILL');
    killAll();
    await Promise.all(stands.map((s) => s.stop()));
    await w?.cleanup();
  });

  it('the AWS CLI v2 calls STS with the credentials of the ECS endpoint, and they are the file\'s', async () => {
    const s = await sts();
    const r = await runAws(['sts', 'get-caller-identity', '--endpoint-url', s.url, '--output', 'json'], ecsEnv());
    expect(r.code, `aws exit code; stderr: ${r.stderr}`).to.equal(0);
    expect(JSON.parse(r.stdout).Arn, 'the caller STS saw').to.match(/:assumed-role\/app\//);
    expect(s.calls.map((c) => c.ok), 'signature checks by the STS stand-in').to.deep.equal([true]);
    const exported = await runAws(['configure', 'export-credentials', '--format', 'process'], ecsEnv());
    expect(exported.code, `export-credentials exit code; stderr: ${exported.stderr}`).to.equal(0);
    const served = JSON.parse(exported.stdout) as { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
    const file = readCredentials(credentialsFile).get('app')!;
    expect({ id: served.AccessKeyId, secret: served.SecretAccessKey, token: served.SessionToken }, 'served credentials against the file').to.deep.equal({
      id: file.accessKeyId,
      secret: file.secretAccessKey,
      token: file.sessionToken,
    });
  });

  it('the AWS CLI v2 calls STS with the credentials of the IMDSv2 endpoint', async () => {
    const s = await sts();
    const r = await runAws(['sts', 'get-caller-identity', '--endpoint-url', s.url, '--output', 'json'], imdsEnv());
    expect(r.code, `aws exit code; stderr: ${r.stderr}`).to.equal(0);
    expect(JSON.parse(r.stdout).Arn, 'the caller STS saw').to.match(/:assumed-role\/app\//);
    expect(s.calls.map((c) => c.ok), 'signature checks by the STS stand-in').to.deep.equal([true]);
  });

  it('ECS: a token opens its own profile only; none is 401, a wrong or another profile\'s is 403, and no refusal carries a secret', async () => {
    const get = (profile: string, auth?: string) => http(ecsUrl, `/v1/credentials/${profile}`, auth === undefined ? {} : { headers: { Authorization: auth } });
    const app = token('app');
    const backup = token('backup');
    expect(app, 'a token of at least 128 bits').to.match(/^[A-Za-z0-9_-]{43,}$/);
    const ok = await get('app', app);
    expect(ok.status, ok.body).to.equal(200);
    expect(Object.keys(JSON.parse(ok.body)).sort(), 'the container-credentials document').to.deep.equal(['AccessKeyId', 'AccountId', 'Expiration', 'SecretAccessKey', 'Token']);
    expect(JSON.parse(ok.body).AccountId).to.equal('111122223333');
    const refusals = {
      none: await get('app'),
      empty: await get('app', ''),
      wrong: await get('app', app.slice(0, -2) + (app.endsWith('AA') ? 'BB' : 'AA')),
      otherProfiles: await get('app', backup),
      unknownProfile: await get('nosuch', app),
    };
    const statuses = Object.fromEntries(Object.entries(refusals).map(([k, r]) => [k, r.status]));
    expect(statuses, 'status per refusal').to.deep.equal({ none: 401, empty: 401, wrong: 403, otherProfiles: 403, unknownProfile: 403 });
    for (const [k, r] of Object.entries(refusals)) {
      expect(() => JSON.parse(r.body), `${k}: a JSON error`).to.not.throw();
      expect(r.body, `${k}: no credentials in a refusal`).to.not.match(/AccessKeyId|SecretAccessKey|ASIA/);
      for (const t of [app, backup]) expect(r.body.includes(t), `${k}: no token in a refusal`).to.equal(false);
    }
    const backupOk = await get('backup', backup);
    expect(backupOk.status, 'the backup token opens backup').to.equal(200);
  });

  it('ECS: the token files are 0600 in a 0700 directory, new at each start; a deleted file does not revoke its token and a reload writes it again', async () => {
    expect((statSync(tokenDir).mode & 0o777).toString(8), 'token_dir mode').to.equal('700');
    expect((statSync(join(tokenDir, 'app.token')).mode & 0o777).toString(8), 'token file mode').to.equal('600');
    const before = token('app');
    rmSync(join(tokenDir, 'app.token'));
    const still = await http(ecsUrl, '/v1/credentials/app', { headers: { Authorization: before } });
    expect(still.status, 'a consumer holding the token keeps working after the file is deleted').to.equal(200);
    const from = agent.logs().length;
    agent.kill('SIGHUP');
    await agent.waitForLog((r) => r.message === 'schedule reloaded', { from, timeoutMs: 15_000 });
    expect(token('app'), 'the token file is back, with the same token').to.equal(before);
  });

  it('IMDSv2: no IMDSv1, a proxied token request refused, the TTL checked, and the one profile served', async () => {
    const put = (headers: Record<string, string>) => http(imdsUrl, '/latest/api/token', { method: 'PUT', headers });
    const v1 = await http(imdsUrl, '/latest/meta-data/iam/security-credentials/');
    const v1Creds = await http(imdsUrl, '/latest/meta-data/iam/security-credentials/app');
    expect([v1.status, v1Creds.status], 'IMDSv1 GETs (no token)').to.deep.equal([401, 401]);
    expect((await put({ 'X-aws-ec2-metadata-token-ttl-seconds': '60', 'X-Forwarded-For': '10.0.0.1' })).status, 'PUT with X-Forwarded-For').to.equal(403);
    const ttls = await Promise.all(['0', '21601', 'abc'].map((t) => put({ 'X-aws-ec2-metadata-token-ttl-seconds': t })));
    expect(ttls.map((r) => r.status), 'PUT with TTL 0, 21601, abc').to.deep.equal([400, 400, 400]);
    expect((await put({})).status, 'PUT without a TTL').to.equal(400);
    const t = await put({ 'X-aws-ec2-metadata-token-ttl-seconds': '21600' });
    expect(t.status).to.equal(200);
    expect(t.headers['x-aws-ec2-metadata-token-ttl-seconds']).to.equal('21600');
    const h = { headers: { 'X-aws-ec2-metadata-token': t.body } };
    expect((await http(imdsUrl, '/latest/meta-data/iam/security-credentials/', { headers: { 'X-aws-ec2-metadata-token': t.body + 'x' } })).status, 'a wrong token').to.equal(401);
    const list = await http(imdsUrl, '/latest/meta-data/iam/security-credentials/', h);
    expect([list.status, list.body], 'the role list').to.deep.equal([200, 'app']);
    const doc = JSON.parse((await http(imdsUrl, '/latest/meta-data/iam/security-credentials/app', h)).body) as Record<string, string>;
    expect(Object.keys(doc).sort(), 'the EC2 credentials document').to.deep.equal(['AccessKeyId', 'Code', 'Expiration', 'LastUpdated', 'SecretAccessKey', 'Token', 'Type']);
    expect([doc.Code, doc.Type]).to.deep.equal(['Success', 'AWS-HMAC']);
    expect((await http(imdsUrl, '/latest/meta-data/iam/security-credentials/backup', h)).status, 'another profile over IMDS').to.equal(404);
    const region = await http(imdsUrl, '/latest/meta-data/placement/region', h);
    expect([region.status, region.body], 'the served profile\'s region (its trust anchor\'s)').to.deep.equal([200, 'us-east-1']);
  });

  it('/metrics counts requests by endpoint, profile and outcome, with no token or secret in it', async () => {
    const text = (await http(httpUrl, '/metrics')).body;
    const sample = (labels: string) => Number(new RegExp(`^${METRIC_PREFIX}serve_requests_total\\{${labels}\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    expect(sample('endpoint="ecs",profile="app",outcome="success"'), 'ECS successes for app').to.be.greaterThan(0);
    expect(sample('endpoint="ecs",profile="",outcome="unauthorized"'), 'ECS 401s').to.be.greaterThan(0);
    expect(sample('endpoint="ecs",profile="",outcome="forbidden"'), 'ECS 403s').to.be.greaterThan(0);
    expect(sample('endpoint="imds",profile="",outcome="token_issued"'), 'IMDS tokens').to.be.greaterThan(0);
    expect(sample('endpoint="imds",profile="app",outcome="success"'), 'IMDS successes').to.be.greaterThan(0);
    for (const t of ['app', 'backup']) expect(text.includes(token(t)), 'no token in /metrics').to.equal(false);
    for (const c of w.emulator.issued) expect(text.includes(c.secretAccessKey), 'no secret in /metrics').to.equal(false);
  });

  it('validate refuses a listener off loopback without tls:, naming the line and the fix', async () => {
    const bad = writeSchedule(
      join(w.dir, 'bad-serve.yaml'),
      scheduleDoc(w, credentialsFile, { app: { role: 'app', key: w.rsaFiles } }, { serve: { ecs: { listen: '0.0.0.0:9912', token_dir: tokenDir } } }),
    );
    const r = await runCli(['validate', '--config', bad], cleanEnv(w.dir));
    expect(r.code, `validate exit code; stdout: ${r.stdout}`).to.equal(2);
    expect(r.stderr + r.stdout).to.match(/serve\.ecs\.listen \(line \d+:\d+\): 0\.0\.0\.0:9912 is not on loopback: .* add tls: \{ certificate: …, private_key: … \} to this listener/);
  });

  it('status shows the listeners of the running agent', async () => {
    const r = await runCli(['status', '--config', schedulePath], cleanEnv(w.dir));
    expect(r.stdout, `status output; stderr: ${r.stderr}`).to.include(`serving ecs: ${ecsUrl} (tokens in ${tokenDir})`);
    expect(r.stdout).to.include(`serving imds: ${imdsUrl} (profile app)`);
    const rows = [
      { endpoint: 'ecs', address: ecsUrl, serving: true, tokenDir },
      { endpoint: 'imds', address: imdsUrl, serving: true, profile: 'app' },
    ];
    const j = await runCli(['status', '--config', schedulePath, '--json'], cleanEnv(w.dir));
    const doc = JSON.parse(j.stdout) as { source: string; serve?: unknown };
    expect([doc.source, doc.serve], `status --json; stderr: ${j.stderr}`).to.deep.equal(['agent', rows]);
    expect((JSON.parse((await http(httpUrl, '/status')).body) as { serve?: unknown }).serve, 'the listeners in /status').to.deep.equal(rows);
  });

  it('boto3 and the JS SDK keep calling across two refreshes of 45 s credentials without one failure; serving never calls CreateSession', async function () {
    this.timeout((CONSUMER_SECONDS + 60) * 1000);
    const codes = await Promise.all(consumers.map((c) => c.exited));
    const elapsed = (Date.now() - consumersStarted) / 1000;
    const summary = consumers.map((c, i) => {
      const calls = c.lines.filter((l) => 'ok' in l);
      const short = c.name.endsWith('(short)');
      return {
        name: c.name,
        exit: codes[i],
        failed: calls.filter((l) => l.ok !== true).slice(0, 3),
        enoughCalls: calls.length >= (short ? 4 : CONSUMER_SECONDS / 3),
        refusedBySts: c.sts.calls.filter((x) => !x.ok).length,
        verifiedAll: c.sts.calls.length === calls.length,
        // three keys: the consumer crossed at least two refreshes
        crossedTwoRefreshes: short || new Set(c.sts.calls.map((x) => x.accessKeyId)).size >= 3,
      };
    });
    const want = summary.map((s) => ({ name: s.name, exit: 0, failed: [], enoughCalls: true, refusedBySts: 0, verifiedAll: true, crossedTwoRefreshes: true }));
    expect(summary, `each consumer; stderr tails:\n${consumers.map((c) => `${c.name}: ${c.stderr.slice(-800)}`).join('\n')}`).to.deep.equal(want);
    const boto = consumers.find((c) => c.name === 'boto3 via ECS')!.lines[0];
    expect(boto, 'the boto3 provider used').to.deep.equal({ provider: 'container-role' });
    expect(consumers.find((c) => c.name === 'boto3 via IMDS (short)')!.lines[0], 'the boto3 provider used').to.deep.equal({ provider: 'iam-role' });
    // Hundreds of served requests; CreateSession only on the refresh timer (one per 30 s at most, plus the first).
    const createSessions = w.emulator.requests.filter((r) => r.roleArn === roleArn('app')).length;
    expect(createSessions, `CreateSession calls for app in ${elapsed.toFixed(0)} s of serving`).to.be.at.most(Math.ceil((elapsed + 10) / 30) + 1);
  });

  it('no token or secret appears in the agent\'s output, and a stop removes the token files', async () => {
    const tokens = ['app', 'backup'].map(token);
    agent.kill('SIGTERM');
    const { code } = await agent.exited;
    expect(code, 'exit code after SIGTERM').to.equal(0);
    const out = allOutput.join('\n');
    for (const t of tokens) expect(out.includes(t), 'a token in the agent output').to.equal(false);
    for (const c of w.emulator.issued) {
      expect(out.includes(c.secretAccessKey), 'a secret in the agent output').to.equal(false);
      expect(out.includes(c.sessionToken), 'a session token in the agent output').to.equal(false);
    }
    expect(existsSync(join(tokenDir, 'app.token')), 'app.token after stop').to.equal(false);
  });
});

function runAws(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(AWS, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
