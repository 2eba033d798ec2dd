/**
 * Commands that cannot finish, as real processes (the built CLI). `credential-process`, `once` and
 * `run` behind a proxy that misbehaves: one that closes every connection without answering
 * CONNECT, and a black hole that accepts and never answers, each a net.Server on 127.0.0.1:0
 * counting connections. Every command must fail within its timeouts with an error naming the proxy
 * (never its password), open a bounded number of connections, and end within 2 s of SIGTERM or
 * SIGINT, whatever it waits on: last, a command stuck where no abort reaches (a FIFO for a password
 * file). The schedule's `connect_timeout` (and `--connect-timeout`) keep the black-hole cases to
 * seconds.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { METRIC_PREFIX } from '../../src/observability/metrics.js';
import type { BoundAddress } from '../../src/observability/server.js';
import { cleanEnv, ensureBuilt, killAll, spawnAgent, tryReadCredentials, waitFor, type AgentProcess } from '../agent/fixtures/agent-process.js';
import { scheduleDoc, writeSchedule } from '../agent/fixtures/schedule.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';
import { http, sample } from '../observability/support.js';

const PASSWORD = 'pr0xy-s3cret';

interface CountingProxy {
  port: number;
  url: string;
  connections(): number;
  close(): Promise<void>;
}

/** A proxy that closes each connection at its first byte (`close`) or reads and never answers (`black-hole`). */
async function badProxy(mode: 'close' | 'black-hole'): Promise<CountingProxy> {
  let connections = 0;
  const open = new Set<Socket>();
  const server = createServer((c) => {
    connections++;
    open.add(c);
    c.on('close', () => open.delete(c));
    c.on('error', () => {});
    if (mode === 'close') c.once('data', () => c.destroy());
    else c.resume();
  });
  return listen(server, () => connections, open);
}

/** A working CONNECT proxy that counts the tunnels it opens. */
async function goodProxy(): Promise<CountingProxy> {
  let tunnels = 0;
  const open = new Set<Socket>();
  const server = createHttpServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: Socket) => {
    tunnels++;
    open.add(client);
    client.on('close', () => open.delete(client));
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client).pipe(upstream);
    });
    open.add(upstream);
    upstream.on('close', () => open.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  return listen(server, () => tunnels, open);
}

async function listen(server: Server, count: () => number, open: Set<Socket>): Promise<CountingProxy> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://agent:${PASSWORD}@127.0.0.1:${port}`,
    connections: count,
    close: () =>
      new Promise((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('commands that cannot finish: proxies that close or never answer, a file that blocks (built CLI, real processes)', function () {
  this.timeout(60_000);
  let w: World;
  const proxies: CountingProxy[] = [];
  let n = 0;

  before(async function () {
    this.timeout(120_000);
    ensureBuilt();
    w = await makeWorld();
  });
  after(async () => {
    killAll();
    await w?.cleanup();
  });
  afterEach(async () => {
    killAll();
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });

  const proxy = async (mode: 'close' | 'black-hole' | 'good') => {
    const p = mode === 'good' ? await goodProxy() : await badProxy(mode);
    proxies.push(p);
    return p;
  };
  const envFor = (p: CountingProxy, extra: Record<string, string> = {}) => cleanEnv(w.dir, { HTTPS_PROXY: p.url, ...extra });
  /** A fresh schedule; every profile's endpoint is the emulator, reached through the proxy. */
  const schedule = (profiles: string[], top: Record<string, unknown> = {}, connectTimeout: unknown = 1) => {
    const dir = join(w.dir, `case-${++n}`);
    mkdirSync(dir, { recursive: true });
    const credentials = join(dir, 'aws', 'credentials');
    const doc = scheduleDoc(w, credentials, Object.fromEntries(profiles.map((p) => [p, { role: 'app', key: w.ecFiles }])), top);
    (doc['defaults'] as Record<string, unknown>)['connect_timeout'] = connectTimeout;
    return { path: writeSchedule(join(dir, 'schedule.yaml'), doc), credentials };
  };
  const credentialProcessArgs = () => [
    'credential-process',
    '--certificate',
    w.ecFiles.certificate,
    '--private-key',
    w.ecFiles.privateKey,
    '--trust-anchor-arn',
    TRUST_ANCHOR_ARN,
    '--profile-arn',
    PROFILE_ARN,
    '--role-arn',
    roleArn('app'),
    '--endpoint',
    w.emulator.httpsUrl!,
    '--ca-bundle',
    w.caBundle,
    '--connect-timeout',
    '1',
  ];
  const host = () => new URL(w.emulator.httpsUrl!).host;
  /** Runs to completion; the ms it took. */
  const finish = async (p: AgentProcess) => {
    const started = Date.now();
    const exit = await p.exited;
    return { ...exit, ms: Date.now() - started };
  };
  /** Signals `p`; its exit and the ms from the signal to the exit (SIGKILL after 5 s, so a hang fails fast). */
  const signalAndWait = async (p: AgentProcess, signal: NodeJS.Signals) => {
    const sent = Date.now();
    p.kill(signal);
    const killer = setTimeout(() => p.kill('SIGKILL'), 5_000);
    const exit = await p.exited;
    clearTimeout(killer);
    return { ...exit, ms: Date.now() - sent };
  };
  /** Waits until the proxy has seen a connection, then signals. */
  const interrupt = async (p: AgentProcess, px: CountingProxy, signal: NodeJS.Signals) => {
    await waitFor(() => px.connections() > 0, 'a connection to the proxy', { timeoutMs: 15_000 });
    return signalAndWait(p, signal);
  };
  const noPassword = (p: AgentProcess) => expect(p.stdout() + p.stderr(), 'output holds the proxy password').not.to.contain(PASSWORD);

  describe('credential-process', () => {
    it('gives up on a proxy that closes the tunnel after 4 attempts (4 connections): exit 5, the proxy named, its password not', async () => {
      const px = await proxy('close');
      const p = spawnAgent(credentialProcessArgs(), envFor(px));
      const { code, ms } = await finish(p);
      expect(code, `exit code; stderr:\n${p.stderr()}`).to.equal(5);
      expect(p.stdout(), 'stdout').to.equal('');
      expect(p.stderr().trim()).to.equal(
        `rolesanywhere-agent credential-process: role ${roleArn('app')}: the proxy http://127.0.0.1:${px.port} (HTTPS_PROXY) closed the connection without answering CONNECT to ${host()} (gave up after 4 attempts) — check the proxy's logs: it may refuse CONNECT to port ${new URL(w.emulator.httpsUrl!).port}, or need another port or scheme in HTTPS_PROXY; or list 127.0.0.1 in NO_PROXY or unset HTTPS_PROXY to connect directly`,
      );
      expect(px.connections(), 'connections to the proxy').to.equal(4);
      expect(ms, 'ms until the exit').to.be.below(15_000);
      noPassword(p);
    });

    it('times out a black-hole proxy at --connect-timeout per attempt: exit 5 within the 30 s deadline, at most 4 connections', async () => {
      const px = await proxy('black-hole');
      const p = spawnAgent(credentialProcessArgs(), envFor(px));
      const { code, ms } = await finish(p);
      expect(code, `exit code; stderr:\n${p.stderr()}`).to.equal(5);
      expect(p.stderr()).to.match(
        new RegExp(`the proxy http://127\\.0\\.0\\.1:${px.port} \\(HTTPS_PROXY\\) did not answer CONNECT to ${host().replace(/\./g, '\\.')} within 1 s \\(gave up after 4 attempts\\)`),
      );
      expect(px.connections(), 'connections to the proxy').to.equal(4);
      // 4 attempts of 1 s plus backoff; generous for a loaded machine, far below the old "forever".
      expect(ms, 'ms until the exit').to.be.below(20_000);
      noPassword(p);
    });

    it('ends within 2 s of SIGTERM (exit 143) and of SIGINT (exit 130) while the proxy does not answer', async () => {
      for (const [signal, expected] of [
        ['SIGTERM', 143],
        ['SIGINT', 130],
      ] as const) {
        const px = await proxy('black-hole');
        const p = spawnAgent([...credentialProcessArgs().slice(0, -1), '60'], envFor(px));
        const { code, signal: killedBy, ms } = await interrupt(p, px, signal);
        expect({ code, killedBy }, `exit after ${signal}; stderr:\n${p.stderr()}`).to.deep.equal({ code: expected, killedBy: null });
        expect(ms, `ms from ${signal} to the exit`).to.be.below(2_000);
        expect(p.stderr()).to.contain('was cancelled');
        expect(px.connections(), 'connections to the proxy').to.equal(1);
      }
    });
  });

  describe('once', () => {
    it('fails each profile through a closing proxy with the proxy named, 4 connections per profile, exit 6', async () => {
      const px = await proxy('close');
      const s = schedule(['a', 'b']);
      const p = spawnAgent(['once', '--config', s.path], envFor(px));
      const { code, ms } = await finish(p);
      expect(code, `exit code; stderr:\n${p.stderr()}`).to.equal(6);
      const lines = p.stdout().trim().split('\n');
      expect(lines.map((l) => l.split('\t').slice(0, 2))).to.deep.equal([
        ['a', 'FAILED'],
        ['b', 'FAILED'],
      ]);
      for (const l of lines) expect(l).to.contain(`NETWORK: profile "${l.split('\t')[0]}": the proxy http://127.0.0.1:${px.port} (HTTPS_PROXY) closed the connection without answering CONNECT`);
      expect(px.connections(), 'connections to the proxy').to.equal(8);
      expect(ms, 'ms until the exit').to.be.below(15_000);
      expect(tryReadCredentials(s.credentials), 'the credentials file').to.equal(undefined);
      noPassword(p);
    });

    it('times out a black-hole proxy at connect_timeout: exit 6 within the deadline, at most 4 connections', async () => {
      const px = await proxy('black-hole');
      const s = schedule(['a']);
      const p = spawnAgent(['once', '--config', s.path], envFor(px));
      const { code, ms } = await finish(p);
      expect(code, `exit code; stderr:\n${p.stderr()}`).to.equal(6);
      expect(p.stdout()).to.contain(`a\tFAILED\tTIMEOUT: profile "a": the proxy http://127.0.0.1:${px.port} (HTTPS_PROXY) did not answer CONNECT to ${host()} within 1 s (gave up after 4 attempts)`);
      expect(px.connections(), 'connections to the proxy').to.equal(4);
      expect(ms, 'ms until the exit').to.be.below(20_000);
      noPassword(p);
    });

    it('ends within 2 s of SIGTERM with exit 143 while the proxy does not answer, saying it was stopped', async () => {
      const px = await proxy('black-hole');
      const s = schedule(['a', 'b'], {}, '1m');
      const p = spawnAgent(['once', '--config', s.path], envFor(px));
      const { code, signal, ms } = await interrupt(p, px, 'SIGTERM');
      expect({ code, signal }, `exit after SIGTERM; stderr:\n${p.stderr()}`).to.deep.equal({ code: 143, signal: null });
      expect(ms, 'ms from SIGTERM to the exit').to.be.below(2_000);
      expect(p.stderr()).to.contain('rolesanywhere-agent once: stopped by SIGTERM; 2 of 2 profile(s) not refreshed');
      expect(px.connections(), 'connections to the proxy').to.be.at.most(2);
    });

    it('fills many profiles through a working proxy over a few kept-alive tunnels, not one per profile', async () => {
      const px = await proxy('good');
      const names = Array.from({ length: 12 }, (_, i) => `p${i}`);
      const s = schedule(names, { rate_limit: { per_second: 50, burst: 50, concurrency: 4 } });
      const p = spawnAgent(['once', '--config', s.path], envFor(px));
      const { code } = await finish(p);
      expect(code, `exit code; output:\n${p.stdout()}${p.stderr()}`).to.equal(0);
      expect([...(tryReadCredentials(s.credentials)?.keys() ?? [])].sort()).to.deep.equal([...names].sort());
      expect(px.connections(), 'tunnels for 12 profiles at 4 calls at a time').to.be.within(1, 4);
    });
  });

  describe('run', () => {
    it('counts a refresh that times out through a black-hole proxy as a failure: logged, backed off, in status, /healthz and /metrics; SIGTERM ends it cleanly within 2 s', async () => {
      const px = await proxy('black-hole');
      const s = schedule(['app'], { http: { listen: '127.0.0.1:0' } });
      const started = Date.now();
      const agent = spawnAgent(['run', '--config', s.path, '--log-format', 'json'], envFor(px));
      const listening = await agent.waitForLog((r) => r.message === 'observability listener started');
      const failed = await agent.waitForLog((r) => r.message === 'refresh failed; the profile has no credentials yet', { timeoutMs: 20_000 });
      const tookMs = Date.now() - started;
      expect(failed['code']).to.equal('TIMEOUT');
      expect(failed['error']).to.contain(`profile "app": the proxy http://127.0.0.1:${px.port} (HTTPS_PROXY) did not answer CONNECT to ${host()} within 1 s (gave up after 4 attempts)`);
      expect(failed['attempt'], 'failures counted').to.equal(1);
      expect(failed['retry_in_s'], 'seconds to the next try (backoff)').to.be.at.least(1);
      expect(tookMs, 'ms from start to the logged failure').to.be.below(20_000);

      const address = { url: listening['url'] as string } as BoundAddress;
      const health = await http(address, '/healthz');
      expect(health.status, `/healthz: ${health.body}`).to.equal(503);
      const body = JSON.parse(health.body) as { failing: Array<{ profile: string; state: string; reason: string }> };
      expect(body.failing.map((f) => [f.profile, f.state])).to.deep.equal([['app', 'backing-off']]);
      expect(body.failing[0]!.reason).to.contain('TIMEOUT');
      const metrics = (await http(address, '/metrics')).body;
      expect(sample(metrics, `${METRIC_PREFIX}refreshes_total`, { profile: 'app', result: 'TIMEOUT' }), 'refreshes_total{result="TIMEOUT"}').to.be.at.least(1);

      const status = spawnAgent(['status', '--config', s.path, '--json'], envFor(px));
      await status.exited;
      const doc = JSON.parse(status.stdout()) as { live: boolean; profiles: Array<{ profile: string; state: string; lastError?: string; consecutiveFailures?: number }> };
      expect(doc.live, 'status sees the live agent').to.equal(true);
      expect(doc.profiles[0]).to.deep.include({ profile: 'app', state: 'backing-off' });
      expect(doc.profiles[0]!.lastError).to.match(/^TIMEOUT: profile "app": the proxy /);
      expect(doc.profiles[0]!.consecutiveFailures).to.be.at.least(1);

      expect(px.connections(), 'connections to the proxy so far').to.be.at.most(20);
      const exit = await signalAndWait(agent, 'SIGTERM');
      expect({ code: exit.code, signal: exit.signal }, `exit after SIGTERM; stderr tail:\n${agent.stderr().slice(-2000)}`).to.deep.equal({ code: 0, signal: null });
      expect(exit.ms, 'ms from SIGTERM to the exit').to.be.below(2_000);
      expect(agent.logs().some((r) => r.message === 'stopped'), 'the clean shutdown ran').to.equal(true);
      noPassword(agent);
    });

    it('retries a proxy that closes the tunnel with backoff, not in a loop: at most 4 connections per logged failure, at most 20 in all', async () => {
      const px = await proxy('close');
      const s = schedule(['app']);
      const agent = spawnAgent(['run', '--config', s.path, '--log-format', 'json'], envFor(px));
      const fails = (r: { message: string }) => r.message === 'refresh failed; the profile has no credentials yet';
      const first = await agent.waitForLog(fails, { timeoutMs: 15_000 });
      expect(first['code']).to.equal('NETWORK');
      expect(first['error']).to.contain(`the proxy http://127.0.0.1:${px.port} (HTTPS_PROXY) closed the connection without answering CONNECT`);
      await agent.waitForLog((r) => fails(r) && r['attempt'] === 2, { timeoutMs: 15_000 });
      const failures = agent.logs().filter(fails).length;
      expect(px.connections(), `connections to the proxy after ${failures} failed refreshes`).to.be.at.most(Math.min(20, 4 * failures + 4));
      const exit = await signalAndWait(agent, 'SIGTERM');
      expect(exit.code, 'exit code after SIGTERM').to.equal(0);
      expect(exit.ms, 'ms from SIGTERM to the exit').to.be.below(2_000);
      noPassword(agent);
    });
  });
  describe('a command stuck where no abort reaches', () => {
    it('still ends within 2 s of SIGTERM, by the signal, when a thread is blocked opening a FIFO (process.exit would wait for it)', async () => {
      const dir = join(w.dir, `fifo-${++n}`);
      mkdirSync(dir);
      const key = join(dir, 'key.enc.pem');
      writeFileSync(key, w.ec.directLeaf.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string, { mode: 0o600 });
      const fifo = join(dir, 'password');
      execFileSync('mkfifo', [fifo]);
      const args = credentialProcessArgs().map((a) => (a === w.ecFiles.privateKey ? key : a));
      const p = spawnAgent([...args, '--private-key-password-file', fifo], cleanEnv(w.dir));
      // The read of the FIFO never returns; give the command time to reach it.
      await new Promise((r) => setTimeout(r, 1_000));
      const { code, signal, ms } = await signalAndWait(p, 'SIGTERM');
      expect({ code, signal }, `exit; stderr:\n${p.stderr()}`).to.deep.equal({ code: null, signal: 'SIGTERM' });
      expect(ms, 'ms from SIGTERM to the exit').to.be.below(2_000);
      expect(p.stderr()).to.contain('rolesanywhere-agent: credential-process did not stop within 1500 ms of SIGTERM; exiting now');
    });
  });
});
