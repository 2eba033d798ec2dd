/**
 * What the agent's machinery costs a refresh, apart from TLS, RSA and the file: the real Agent (jobs,
 * concurrency limiter, token bucket, retries and cancelling, the redactor, JSON log lines to
 * /dev/null) with an in-memory transport that answers every CreateSession at once, the known-answer
 * EC key of the tests, and a credentials sink that writes nothing, against a "lean" loop doing the
 * same calls with the same pieces (request builder, reply checks, redactor, log line, a timer per
 * profile) 32 at a time. Bursts of 1000 refreshes: ten to warm up, then ROUNDS (15) of each,
 * alternated. MODE=agent or MODE=lean runs one of them alone in its process.
 * Measured 2026-12-07 (docs/benchmarks.md, "Twelfth pass"): agent 71-84 µs a refresh, lean 59-66
 * µs, alone or together: the machinery is ~12-18 µs a refresh, ~0.03x of the floor client's call.
 * Usage: node --import tsx bench/agent-machinery.ts
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Agent, type AgentConfig } from '../src/agent/agent.js';
import { createLogger } from '../src/log/logger.js';
import { Redactor } from '../src/log/redact.js';
import { buildSignedRequest } from '../src/rolesanywhere/request.js';
import { parseSessionReply } from '../src/rolesanywhere/reply.js';
import type { HttpReply, Transport } from '../src/rolesanywhere/transport.js';
import { systemClock } from '../src/time/clock.js';
import { systemScheduler } from '../src/time/scheduler.js';
import { profile } from '../test/helpers/agent-fakes.js';
import { memorySigner } from '../test/helpers/signer.js';
import { KAT_EC_CERT, KAT_EC_KEY } from '../test/rolesanywhere/fixtures/kat-material.js';

const N = 1000;
const exp = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
const body = JSON.stringify({ credentialSet: [{ credentials: { accessKeyId: 'ASIAEXAMPLEEXAMPLE12', secretAccessKey: 's'.repeat(40), sessionToken: 'IQoJb3JpZ2lu' + 't'.repeat(700), expiration: exp } }] });
const transport: Transport = { post: async (): Promise<HttpReply> => ({ status: 201, headers: {}, body }), close: async () => {} };
const devNull = openSync('/dev/null', 'w');
const redactor = new Redactor();
const log = createLogger({ human: false, redactor, stream: new Writable({ write: (c: Buffer, _e, done) => (writeSync(devNull, c), done()) }) });
const signer = memorySigner(KAT_EC_CERT, KAT_EC_KEY);
const sink = { write: async () => {}, remove: async () => {}, flush: async () => {}, close: async () => {} };
const agent = new Agent({ clock: systemClock, scheduler: systemScheduler, log, env: {}, redactor, loadSigner: async () => signer, makeWriter: () => sink, makeTransport: () => transport, watch: false, unrefTimers: true });
const profiles = Array.from({ length: N }, (_, i) => profile(`p${i}`, { refresh: { kind: 'before_expiry', marginSeconds: 900, jitterSeconds: 60 } }));
const config: AgentConfig = { credentialsFile: '/tmp/machinery-credentials', profiles, rateLimit: { perSecond: 1e6, burst: 1e6, concurrency: 32 } };
const MODE = process.env['MODE'] ?? 'both';
if (MODE !== 'lean') {
  await agent.start(config);
  await agent.refreshNow();
}

const timers = new Map<string, NodeJS.Timeout>();
async function lean(): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < N) {
        const p = profiles[next++]!;
        const req = await buildSignedRequest('https://rolesanywhere.eu-west-1.amazonaws.com/sessions', 'eu-west-1', p.session, signer, Date.now());
        const reply = await transport.post(req.url, req.headers, req.body);
        const { credentials } = parseSessionReply(reply, Date.now(), `profile "${p.name}"`, 3600);
        redactor.hold(`credentials:${p.name}`, [credentials.secretAccessKey, credentials.sessionToken]);
        await sink.write();
        clearTimeout(timers.get(p.name));
        const at = Date.now() + 2_700_000;
        timers.set(p.name, setTimeout(() => {}, 2_700_000).unref());
        log.info('credentials refreshed', { profile: p.name, expires: credentials.expiration.toISOString(), next_refresh: new Date(at).toISOString() });
      }
    }),
  );
}
/** CPU µs a refresh of one burst of N. */
async function cpuPerRefresh(burst: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  await burst();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / N;
}
const runAgent = MODE !== 'lean';
const runLean = MODE !== 'agent';
for (let i = 0; i < 10; i++) {
  if (runAgent) await agent.refreshNow();
  if (runLean) await lean();
}
const agentMicros: number[] = [];
const leanMicros: number[] = [];
for (let i = 0; i < Number(process.env['ROUNDS'] ?? 15); i++) {
  if (runAgent) agentMicros.push(await cpuPerRefresh(() => agent.refreshNow()));
  if (runLean) leanMicros.push(await cpuPerRefresh(lean));
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
if (runAgent) console.log(`agent: median ${median(agentMicros).toFixed(0)} µs CPU a refresh (bursts ${agentMicros.map(Math.round).join(' ')})`);
if (runLean) console.log(`lean:  median ${median(leanMicros).toFixed(0)} µs CPU a refresh (bursts ${leanMicros.map(Math.round).join(' ')})`);
if (runAgent && runLean) console.log(`the machinery: ${(median(agentMicros) - median(leanMicros)).toFixed(0)} µs a refresh`);
if (runAgent) await agent.stop();
closeSync(devNull);
