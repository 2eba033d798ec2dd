/**
 * Shared pieces of the observability tests: an in-process Agent on a manual clock against a scripted
 * CreateSession service (the transport is the only fake), a captured Log, and a tiny HTTP client for
 * the listener over TCP or a unix socket.
 */
import { request } from 'node:http';
import type { AgentProfile } from '../../src/agent/agent.js';
import type { Signer } from '../../src/keys/signer.js';
import type { BoundAddress } from '../../src/observability/server.js';
import { agentWorld } from '../helpers/agent-fakes.js';
import { AgentMetrics } from '../../src/observability/metrics.js';
import { agentView } from '../../src/observability/status-document.js';

export { TA, PR, profile, reply, FakeService, MemorySink, captureLog, agentWorld } from '../helpers/agent-fakes.js';

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
  const t = agentWorld(profiles, { now, loadSigner: async () => signer(), events: metrics.events });
  const view = agentView(t.agent, {
    clock: t.clock,
    pid: process.pid,
    credentialsFile: () => t.config.credentialsFile,
    refreshOf: (name) => t.config.profiles.find((p) => p.name === name)?.refresh,
  });
  metrics.attach(view);
  return { ...t, metrics, view };
}
