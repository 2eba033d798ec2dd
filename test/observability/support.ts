/**
 * Shared pieces of the observability tests: an in-process Agent on a manual clock against a scripted
 * CreateSession service (the transport is the only fake), a captured Log, and a tiny HTTP client for
 * the listener over TCP or a unix socket.
 */
import { request } from 'node:http';
import { Agent, type AgentConfig, type AgentProfile } from '../../src/agent/agent.js';
import type { JobEvents } from '../../src/agent/job.js';
import type { Signer } from '../../src/keys/signer.js';
import type { Log } from '../../src/observability/logger.js';
import type { BoundAddress } from '../../src/observability/server.js';
import { ManualClock } from '../../src/time/clock.js';
import { ManualScheduler } from '../../src/time/manual-scheduler.js';
import { FakeService, MemorySink } from '../helpers/agent-fakes.js';
import { AgentMetrics } from '../../src/observability/metrics.js';
import { agentView } from '../../src/observability/status-document.js';

export { TA, PR, profile, reply, FakeService, MemorySink } from '../helpers/agent-fakes.js';

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

/** agentWorld with metrics attached through the same view a running agent serves. */
export function observedWorld(profiles: AgentProfile[], signer: () => Signer) {
  const metrics = new AgentMetrics();
  // One minute into the current 20-minute window: the test certificates (valid from an hour ago)
  // are in date, and a `*/20` cron profile cannot come due while a test advances a few minutes.
  const now = Math.floor(Date.now() / 1_200_000) * 1_200_000 + 60_000;
  const t = agentWorld(profiles, { now, signer, events: metrics.events });
  const view = agentView(t.agent, {
    clock: t.clock,
    pid: process.pid,
    credentialsFile: () => t.config.credentialsFile,
    refreshOf: (name) => t.config.profiles.find((p) => p.name === name)?.refresh,
  });
  metrics.attach(view);
  return { ...t, metrics, view };
}
