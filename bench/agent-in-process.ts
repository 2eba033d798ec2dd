/**
 * The agent's refresh bursts measured inside one process, without the `run` command or /proc: the
 * real Agent with the project's FileSigner (RSA-2048), https transport, CredentialsWriter (a
 * 1000-profile file), logger (JSON lines to /dev/null) and redactor, against the emulator on
 * loopback, 32 calls at a time. Each burst is a rotation of the certificate and key all 1000
 * profiles share (the rotation watch on, as in bench/agent.ts), or `agent.refreshNow()` with
 * MODE=now. Four bursts warm it up, then six are measured (CPU of all threads, and of the main
 * thread from /proc), each after GAP_MS of idle time (default 0: back to back). Then the floor
 * client (bench/floor-client.ts) runs against the same emulator with FLOOR_ARGS (default
 * `--only https,file`: the floor, the floor writing the file, the lean agent) and node's FLOOR_NODE_FLAGS;
 * MODE=floor runs only it.
 *
 * Why (docs/benchmarks.md, "Twelfth pass"): bench/agent.ts measures each refresh cycle after
 * seconds of idle time (its floors run in between), and its floor client never idles. Here the same
 * agent, back to back, costs ~1.25x the floor; after 3 s idle, its helper threads add ~100 µs a
 * refresh; after 6 s (past the emulator's 5 s keep-alive), the main thread also reconnects.
 * The thirteenth pass gave the floor client the same rhythm, and the lean agent in it cost nearly
 * what the Agent costs (the Agent 1.00-1.18x of it):
 * GAP_MS=6000 FLOOR_ARGS="--only https,file --gap-ms 6000 --calls 1000".
 * Usage: GAP_MS=6000 node --import tsx bench/agent-in-process.ts   (after npm run build: it starts dist's emulator)
 */
import { closeSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Agent, type AgentConfig } from '../src/agent/agent.js';
import { CredentialsWriter } from '../src/credentials-file/writer.js';
import { loadFileSigner } from '../src/keys/load.js';
import { createLogger } from '../src/log/logger.js';
import { Redactor } from '../src/log/redact.js';
import { issue, writePrivate } from '../src/pki/issue.js';
import { systemClock } from '../src/time/clock.js';
import { systemScheduler } from '../src/time/scheduler.js';
import { PR, ROLES, runFloorClient, startEmulator, TA } from './harness.js';

const N = 1000;
const MODE = process.env['MODE'] ?? 'rot';
const GAP_MS = Number(process.env['GAP_MS'] ?? 0);

const dir = mkdtempSync(join(tmpdir(), 'ra-in-process-'));
const root = await issue({ name: 'bench root', kind: 'rsa', ca: true });
const leaf = await issue({ name: 'bench leaf', kind: 'rsa', issuer: root });
const cert = join(dir, 'leaf.crt.pem');
const key = join(dir, 'leaf.key.pem');
writePrivate(cert, leaf.certPem);
writePrivate(key, leaf.keyPem);
const emulator = await startEmulator(dir, root);
const { url, ca } = emulator;

/** CPU µs of this process's main thread, from /proc (clock ticks of 10 ms). */
function mainThreadMicros(): number {
  const st = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

try {
  if (MODE !== 'floor') {
    const devNull = openSync('/dev/null', 'w');
    const redactor = new Redactor();
    const log = createLogger({ human: false, redactor, stream: new Writable({ write: (c: Buffer, _e, done) => (writeSync(devNull, c), done()) }) });
    let written = 0;
    const makeWriter = (path: string) => {
      const w = new CredentialsWriter(path);
      const write = w.write.bind(w);
      w.write = (profile, credentials) => write(profile, credentials).then(() => void written++);
      return w;
    };
    const agent = new Agent({ clock: systemClock, scheduler: systemScheduler, log, env: {}, redactor, loadSigner: (k) => loadFileSigner(k), makeWriter, watch: MODE === 'rot', unrefTimers: true });
    const profiles = Array.from({ length: N }, (_, i) => ({
      name: `p${i}`,
      specHash: `p${i}`,
      session: { trustAnchorArn: TA, profileArn: PR, roleArn: ROLES[i % ROLES.length]!, durationSeconds: 3600, endpoint: url },
      refresh: { kind: 'before_expiry' as const, marginSeconds: 900, jitterSeconds: 60 },
      key: { certificate: cert, privateKey: key },
      transport: { caBundle: ca },
    }));
    const config: AgentConfig = { credentialsFile: join(dir, 'credentials'), profiles, rateLimit: { perSecond: 1e6, burst: 1e6, concurrency: 32 } };
    const leaves = await Promise.all(Array.from({ length: 11 }, (_, i) => issue({ name: `bench leaf ${i}`, kind: 'rsa', issuer: root })));
    const burst = async () => {
      if (MODE !== 'rot') return agent.refreshNow();
      const next = leaves.shift()!;
      writePrivate(`${key}.new`, next.keyPem);
      writePrivate(`${cert}.new`, next.certPem);
      const target = written + N;
      renameSync(`${key}.new`, key);
      renameSync(`${cert}.new`, cert);
      while (written < target) await new Promise((r) => setTimeout(r, 5));
    };
    await agent.start(config);
    await agent.refreshNow();
    for (let i = 0; i < 4; i++) await burst();
    const all: number[] = [];
    const main: number[] = [];
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, GAP_MS));
      const cpu0 = process.cpuUsage();
      const main0 = mainThreadMicros();
      await burst();
      const used = process.cpuUsage(cpu0);
      all.push((used.user + used.system) / N);
      main.push((mainThreadMicros() - main0) / N);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    console.log(`agent in one process (${MODE}, ${GAP_MS} ms idle before each burst): median ${median(all).toFixed(0)} µs CPU a refresh (bursts ${all.map(Math.round).join(' ')}), main thread ${median(main).toFixed(0)} µs (${main.map(Math.round).join(' ')})`);
    await agent.stop();
    closeSync(devNull);
  }
  const floor = await runFloorClient(emulator, { cert, key }, (process.env['FLOOR_ARGS'] ?? '--only https,file').split(' ').filter(Boolean), (process.env['FLOOR_NODE_FLAGS'] ?? '').split(' ').filter(Boolean));
  for (const k of ['https', 'httpsFile', 'lean'] as const) {
    const m = floor[k];
    if (m) console.log(`floor client, ${k}: median ${m.median.toFixed(0)} µs CPU a call (batches ${m.batches.join(' ')})`);
  }
} finally {
  emulator.proc.kill();
  rmSync(dir, { recursive: true, force: true });
}
