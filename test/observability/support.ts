/**
 * Shared pieces of the observability tests: an in-process Agent on a manual clock against a scripted
 * CreateSession service (the transport is the only fake), a captured Log, and a tiny HTTP client for
 * the listener over TCP or a unix socket.
 */
import { request } from 'node:http';
import type { Credentials } from '../../src/credentials.js';
import { Agent, type AgentConfig, type AgentProfile, type CredentialsSink } from '../../src/agent/agent.js';
import type { JobEvents } from '../../src/agent/job.js';
import type { Signer } from '../../src/keys/signer.js';
import type { Log } from '../../src/observability/logger.js';
import type { BoundAddress } from '../../src/observability/server.js';
import type { HttpReply, Transport } from '../../src/rolesanywhere/transport.js';
import { ManualClock } from '../../src/time/clock.js';
import { ManualScheduler } from '../../src/time/manual-scheduler.js';

export const TA = 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/2b7f1a3c-4d5e-4f60-8a9b-0c1d2e3f4a5b';
export const PR = 'arn:aws:rolesanywhere:eu-west-1:111122223333:profile/6c7d8e9f-0a1b-4c2d-9e3f-4a5b6c7d8e9f';

export function profile(name: string, extra: Partial<AgentProfile> = {}): AgentProfile {
  return {
    name,
    specHash: `hash-${name}`,
    session: { trustAnchorArn: TA, profileArn: PR, roleArn: `arn:aws:iam::111122223333:role/${name}`, durationSeconds: 3600 },
    refresh: { kind: 'before_expiry', marginSeconds: 900, jitterSeconds: 0 },
    key: { certificate: `/certs/${name}.pem`, privateKey: `/certs/${name}.key` },
    transport: {},
    ...extra,
  };
}

export const reply = (status: number, type: string): HttpReply => ({ status, headers: { 'x-amzn-errortype': type }, body: '{"message":"scripted"}' });

/** The service: credentials per role, scripted failures per role, every issued secret kept. */
export class FakeService implements Transport {
  calls: string[] = [];
  failures = new Map<string, HttpReply[]>();
  issued: Credentials[] = [];
  constructor(private readonly clock: ManualClock, public lifetimeS = 3600) {}
  async post(url: string): Promise<HttpReply> {
    const role = new URL(url).searchParams.get('roleArn')!.split('/').pop()!;
    this.calls.push(role);
    const f = this.failures.get(role)?.shift();
    if (f) return f;
    const n = this.issued.length + 1;
    const c = {
      accessKeyId: `ASIA${role.toUpperCase()}${n}`,
      secretAccessKey: `secret-${role}-${n}-${'s'.repeat(20)}`,
      sessionToken: `token-${role}-${n}-${'t'.repeat(40)}`,
      expiration: new Date(this.clock.now() + this.lifetimeS * 1000),
    };
    this.issued.push(c);
    return { status: 201, headers: {}, body: JSON.stringify({ credentialSet: [{ credentials: { ...c, expiration: c.expiration.toISOString() } }] }) };
  }
  async close() {}
}

export class MemorySink implements CredentialsSink {
  replaceCount = 0;
  async write() {
    this.replaceCount++;
  }
  async flush() {}
  async close() {}
}

export function captureLog(): Log & { lines: Array<{ level: string; message: string; meta: Record<string, unknown> }> } {
  const lines: Array<{ level: string; message: string; meta: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, meta?: Record<string, unknown>) => void lines.push({ level, message, meta: meta ?? {} });
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

const settle = async (n = 30) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

export function agentWorld(profiles: AgentProfile[], o: { signer: () => Signer; now: number; events?: JobEvents }) {
  const clock = new ManualClock(o.now);
  const scheduler = new ManualScheduler(clock);
  const service = new FakeService(clock);
  const sink = new MemorySink();
  const log = captureLog();
  const agent = new Agent({
    clock,
    scheduler,
    log,
    env: {},
    random: () => 0,
    loadSigner: async () => o.signer(),
    makeWriter: () => sink,
    makeTransport: () => service,
    watch: false,
    tuning: { baseMs: 2_000, capMs: 60_000, slowBaseMs: 60_000, slowCapMs: 600_000 },
    ...(o.events && { events: o.events }),
  });
  const config: AgentConfig = { credentialsFile: '/tmp/obs-credentials', profiles, rateLimit: { perSecond: 100, burst: 100, concurrency: 4 } };
  /** Moves both clocks in 1 s steps so promise chains between timers settle. */
  const advance = async (ms: number) => {
    for (let done = 0; done < ms; done += 1000) {
      scheduler.advance(Math.min(1000, ms - done));
      await settle();
    }
  };
  return { clock, scheduler, service, sink, log, agent, config, advance };
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function http(address: BoundAddress, path: string, method = 'GET'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const base = 'url' in address ? new URL(address.url) : undefined;
    const req = request(
      base ? { hostname: base.hostname.replace(/^\[|\]$/g, ''), port: base.port, path, method } : { socketPath: (address as { socket: string }).socket, path, method },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The value of one series in Prometheus text, or undefined; labels must match exactly (any order). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    const keys = Object.keys(labels);
    if (Object.keys(got).length === keys.length && keys.every((k) => got[k] === labels[k])) return Number(m[3]);
  }
  return undefined;
}
