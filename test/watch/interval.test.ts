/**
 * The interval safety net for file systems that send no events (NFS, FUSE, some CSI mounts): an
 * in-process agent whose directory watcher is replaced by one that drops every event, with real
 * files, real key loading and the real emulator over HTTPS. Only the watch_interval check can see
 * the rotation; with watch_interval 0 nothing does.
 */
import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Agent } from '../../src/agent/agent.js';
import { agentConfig } from '../../src/agent/from-schedule.js';
import { parseSchedule } from '../../src/config/index.js';
import { loadSigner } from '../../src/keys/load.js';
import { AgentMetrics } from '../../src/observability/metrics.js';
import { issue, type Issued } from '../../src/pki/issue.js';
import { systemClock } from '../../src/time/clock.js';
import { systemScheduler } from '../../src/time/scheduler.js';
import { RotationWatch, type DirWatcherFactory } from '../../src/watch/rotation.js';
import { captureLog, MemorySink } from '../helpers/agent-fakes.js';
import { makeTempDir } from '../helpers/tmp.js';
import { makeWorld, roleArn, type World } from '../helpers/world.js';
import { waitFor } from '../agent/fixtures/agent-process.js';
import { serialOf } from '../agent/fixtures/emulators.js';
import { scheduleDoc } from '../agent/fixtures/schedule.js';
import { PATTERNS } from './fixtures/patterns.js';

/** Watches nothing, reports nothing: what a mount without inotify support looks like to the agent. */
const deafWatcher: DirWatcherFactory = () => ({ ready: Promise.resolve(), add() {}, unwatch() {}, close: async () => {} });

describe('rotation: the watch_interval check when no file events arrive', function () {
  this.timeout(60_000);
  let w: World;
  const cleanups: Array<() => void | Promise<void>> = [];

  before(async () => {
    w = await makeWorld({ roles: ['polled', 'unpolled', 'shared'].map(roleArn) });
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    await w?.cleanup();
  });

  const rename = PATTERNS.find((p) => p.name === 'rename-over')!;
  const leaf = (name: string) => issue({ name: `${name}.example.test`, kind: 'ec', issuer: w.ec.root });

  async function startAgent(name: string, watchInterval: string) {
    const t = makeTempDir('ra-interval-');
    cleanups.push(t.cleanup);
    const dir = join(t.dir, 'pki');
    mkdirSync(dir, { mode: 0o700 });
    const first = await leaf(`${name}-0`);
    const files = rename.setup(dir, { cert: first.certPem, key: first.keyPem });
    const doc = scheduleDoc(w, join(t.dir, 'credentials'), { [name]: { role: name, key: files, extra: { watch_interval: watchInterval } } });
    const config = agentConfig(parseSchedule(stringify(doc), join(t.dir, 'schedule.yaml'), { env: {}, home: t.dir, baseDir: t.dir }));
    const log = captureLog();
    const metrics = new AgentMetrics();
    const agent = new Agent({
      clock: systemClock,
      scheduler: systemScheduler,
      log,
      env: {},
      loadSigner: (key) => loadSigner(key, { env: {}, clock: systemClock }),
      makeWriter: () => new MemorySink(),
      watch: true,
      dirWatcher: deafWatcher,
      events: metrics.events,
    });
    cleanups.push(() => agent.stop());
    await agent.start(config);
    await waitFor(() => w.emulator.requests.some((r) => r.roleArn === roleArn(name) && r.serial === serialOf(first)), `the first CreateSession of ${name}`);
    const rotate = async (): Promise<{ next: Issued; done: number }> => {
      const next = await leaf(`${name}-1`);
      await rename.rotate(dir, { cert: next.certPem, key: next.keyPem }, 1);
      return { next, done: Date.now() };
    };
    return { agent, log, metrics, first, rotate };
  }

  it('picks up a rename-over within watch_interval + 1 s, logged and counted as poll', async () => {
    const { log, metrics, first, rotate } = await startAgent('polled', '1s');
    const { next, done } = await rotate();
    const call = await waitFor(() => w.emulator.requests.find((r) => r.roleArn === roleArn('polled') && r.serial === serialOf(next)), 'a CreateSession with the new certificate', {
      timeoutMs: 10_000,
      intervalMs: 5,
    });
    // interval + 1 s is the goal; doubled here because the machine is shared (see docs/benchmarks.md).
    expect(call.time.getTime() - done, 'ms from the rename to the new CreateSession').to.be.at.most(1_000 + 2_000);
    const line = log.lines.find((l) => l.message === 'rotated certificate picked up');
    expect(line?.meta, 'the rotation log line').to.deep.include({ trigger: 'poll', old_serial: first.nodeCert.serialNumber, new_serial: next.nodeCert.serialNumber });
    const body = await metrics.registry.metrics();
    expect(body, 'rotations counted by trigger').to.include('rolesanywhere_agent_certificate_rotations_total{trigger="poll"} 1').and.to.include('rolesanywhere_agent_certificate_rotations_total{trigger="event"} 0');
    expect(w.emulator.requests.filter((r) => r.roleArn === roleArn('polled') && !r.ok), 'rejected requests').to.deep.equal([]);
  });

  it('gives the watch of a shared key the shortest watch_interval of its profiles, set once at start and again at a reload', async () => {
    const t = makeTempDir('ra-interval-');
    cleanups.push(t.cleanup);
    const dir = join(t.dir, 'pki');
    mkdirSync(dir, { mode: 0o700 });
    const first = await leaf('shared-0');
    const files = rename.setup(dir, { cert: first.certPem, key: first.keyPem });
    const names = Array.from({ length: 50 }, (_, i) => `p${i}`);
    const interval = (name: string) => (name === 'p17' ? '45s' : '90s');
    const doc = (which: string[]) =>
      scheduleDoc(w, join(t.dir, 'credentials'), Object.fromEntries(which.map((n) => [n, { role: 'shared', key: files, extra: { watch_interval: interval(n) } }])));
    const config = (which: string[]) => agentConfig(parseSchedule(stringify(doc(which)), join(t.dir, 'schedule.yaml'), { env: {}, home: t.dir, baseDir: t.dir }));
    // Every call of setInterval on a watch: the agent used to make one per profile, each walking all
    // the profiles of the key (quadratic in the number of profiles at start).
    const calls: Array<{ watch: RotationWatch; ms: number }> = [];
    const original = RotationWatch.prototype.setInterval;
    RotationWatch.prototype.setInterval = function (this: RotationWatch, ms: number) {
      calls.push({ watch: this, ms });
      original.call(this, ms);
    };
    cleanups.push(() => void (RotationWatch.prototype.setInterval = original));
    const agent = new Agent({
      clock: systemClock,
      scheduler: systemScheduler,
      log: captureLog(),
      env: {},
      loadSigner: (key) => loadSigner(key, { env: {}, clock: systemClock }),
      makeWriter: () => new MemorySink(),
      watch: true,
      dirWatcher: deafWatcher,
    });
    cleanups.push(() => agent.stop());
    await agent.start(config(names));
    expect(calls.map((c) => c.ms), 'intervals set at start, for 50 profiles of one key').to.deep.equal([45_000]);
    const watch = calls[0]!.watch;
    calls.length = 0;
    await agent.reload(config(names.filter((n) => n !== 'p17')));
    expect(calls.map((c) => c.ms), 'intervals set at the reload that removed the shortest').to.deep.equal([90_000]);
    expect(watch.intervalMs, 'the watch\'s interval').to.equal(90_000);
  });

  it('with watch_interval 0 and no events, the rotation is not seen (the interval check is what found it above)', async () => {
    const { log, first, rotate } = await startAgent('unpolled', '0');
    await rotate();
    await new Promise((r) => setTimeout(r, 2_500));
    expect(
      w.emulator.requests.filter((r) => r.roleArn === roleArn('unpolled')).map((r) => r.serial),
      'serials the emulator saw: still only the first',
    ).to.deep.equal([serialOf(first)]);
    expect(log.lines.filter((l) => l.message === 'rotated certificate picked up'), 'rotation log lines').to.deep.equal([]);
  });
});
