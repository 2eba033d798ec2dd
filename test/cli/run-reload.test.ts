/**
 * `run` as a real process against the emulator: what a reload (SIGHUP or a changed schedule file)
 * rebuilds must be built as at start — the flags' overrides and the settings applied from the
 * schedule — and the schedule file is watched like key material, through a Kubernetes ConfigMap's
 * `..data` symlink swap.
 */
import { expect } from 'chai';
import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writePrivate } from '../helpers/pki.js';
import { makeTempDir } from '../helpers/tmp.js';
import { makeWorld, roleArn, type World } from '../helpers/world.js';
import { cleanEnv, ensureBuilt, killAll, spawnAgent, tryReadCredentials, waitFor, type AgentProcess, type LogRecord } from '../agent/fixtures/agent-process.js';
import { scheduleDoc, writeSchedule, type ProfileSpec } from '../agent/fixtures/schedule.js';

const ROLES = ['reload-a', 'reload-b', 'reload-c', 'reload-d', 'cm-a', 'cm-b', 'cm-c'];

describe('run: reload rebuilds what start built; the schedule is watched through symlink swaps', function () {
  this.timeout(60_000);
  let w: World;
  const dirs: Array<() => void> = [];
  const place = () => {
    const t = makeTempDir('ra-cli-reload-');
    dirs.push(t.cleanup);
    return { dir: t.dir, credentials: join(t.dir, 'aws', 'credentials'), schedule: join(t.dir, 'agent.yaml') };
  };
  const profile = (role: string): ProfileSpec => ({ role, key: w.ecFiles });
  const refreshing = (name: string) => (r: LogRecord) => r.level === 'debug' && r.message === 'refreshing' && r['profile'] === name;
  const stop = async (agent: AgentProcess) => {
    agent.kill('SIGTERM');
    const { code } = await agent.exited;
    expect(code, `exit code after SIGTERM; stderr tail:\n${agent.stderr().slice(-2000)}`).to.equal(0);
  };

  before(async function () {
    this.timeout(60_000);
    ensureBuilt();
    w = await makeWorld({ roles: ROLES.map(roleArn) });
  });
  after(async () => {
    killAll();
    await w?.cleanup();
    dirs.forEach((d) => d());
  });

  describe('overrides and schedule settings', () => {
    it('applies the schedule\'s log_level at a reload, as at start', async () => {
      const p = place();
      const agent = spawnAgent(['run', '--config', writeSchedule(p.schedule, scheduleDoc(w, p.credentials, { a: profile('reload-a') }, { log_level: 'info' })), '--log-format', 'json'], cleanEnv(w.dir));
      await waitFor(() => tryReadCredentials(p.credentials)?.get('a'), 'profile a written');
      await agent.waitForLog((r) => r.message === 'agent started');
      expect(agent.logs().filter(refreshing('a')), 'debug lines at log_level info').to.deep.equal([]);
      const mark = agent.logs().length;
      writeSchedule(p.schedule, scheduleDoc(w, p.credentials, { a: profile('reload-a'), b: profile('reload-b') }, { log_level: 'debug' }));
      agent.kill('SIGHUP');
      await agent.waitForLog((r) => r.message === 'schedule reloaded', { from: mark });
      const line = await agent.waitForLog(refreshing('b'), { from: mark });
      expect(line['reason'], 'why b refreshed').to.be.a('string');
      await stop(agent);
    });

    it('keeps applying --log-level after a reload, whatever log_level the new schedule says', async () => {
      const p = place();
      const agent = spawnAgent(
        ['run', '--config', writeSchedule(p.schedule, scheduleDoc(w, p.credentials, { c: profile('reload-c') }, { log_level: 'warn' })), '--log-format', 'json', '--log-level', 'debug'],
        cleanEnv(w.dir),
      );
      await agent.waitForLog(refreshing('c'));
      await agent.waitForLog((r) => r.message === 'agent started');
      await waitFor(() => tryReadCredentials(p.credentials)?.get('c'), 'profile c written');
      const mark = agent.logs().length;
      writeSchedule(p.schedule, scheduleDoc(w, p.credentials, { c: profile('reload-c'), d: profile('reload-d') }, { log_level: 'error' }));
      agent.kill('SIGHUP');
      await agent.waitForLog((r) => r.message === 'schedule reloaded', { from: mark });
      await agent.waitForLog(refreshing('d'), { from: mark });
      await waitFor(() => tryReadCredentials(p.credentials)?.get('d'), 'profile d written');
      await stop(agent);
    });
  });

  describe('a schedule mounted from a ConfigMap (dir/agent.yaml -> ..data/agent.yaml, ..data -> ..<stamp>)', () => {
    for (const keepOld of [false, true]) {
      it(`reloads when ..data is swapped to a new directory${keepOld ? ' and the old one is kept' : ' and the old one deleted (the kubelet)'}; chmod and touch do not reload`, async () => {
        const p = place();
        const mount = join(p.dir, 'config');
        mkdirSync(mount, { mode: 0o700 });
        const version = (stamp: string, profiles: Record<string, ProfileSpec>) => {
          mkdirSync(join(mount, stamp), { mode: 0o700 });
          writePrivate(join(mount, stamp, 'agent.yaml'), stringify(scheduleDoc(w, p.credentials, profiles), { lineWidth: 0 }));
        };
        /** What the kubelet does: a temp link to the new directory renamed over ..data, then the old directory removed. */
        const swap = (from: string, to: string) => {
          symlinkSync(to, join(mount, '..data_tmp'));
          renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
          if (!keepOld) rmSync(join(mount, from), { recursive: true });
        };
        version('..2026_01_01_00_00_00.000000001', { a: profile('cm-a') });
        symlinkSync('..2026_01_01_00_00_00.000000001', join(mount, '..data'));
        symlinkSync('..data/agent.yaml', join(mount, 'agent.yaml'));
        const schedule = join(mount, 'agent.yaml');
        const agent = spawnAgent(['run', '--config', schedule, '--log-format', 'json', '--log-level', 'debug'], cleanEnv(w.dir));
        await waitFor(() => tryReadCredentials(p.credentials)?.get('a'), 'profile a written');
        await agent.waitForLog((r) => r.message === 'agent started');
        // Give the watch its start; the tests above show the agent itself is up.
        await new Promise((r) => setTimeout(r, 300));

        let mark = agent.logs().length;
        version('..2026_01_01_00_05_00.000000002', { a: profile('cm-a'), b: profile('cm-b') });
        swap('..2026_01_01_00_00_00.000000001', '..2026_01_01_00_05_00.000000002');
        const first = await agent.waitForLog((r) => r.message === 'schedule reloaded', { from: mark, timeoutMs: 5_000 });
        expect({ reason: first['reason'], added: first['added'], unchanged: first['unchanged'] }, 'the first swap').to.deep.equal({ reason: 'schedule file changed', added: ['b'], unchanged: ['a'] });
        await waitFor(() => tryReadCredentials(p.credentials)?.get('b'), 'profile b written');

        // The watch must have followed the swap: a second one is seen too.
        mark = agent.logs().length;
        version('..2026_01_01_00_10_00.000000003', { a: profile('cm-a'), b: profile('cm-b'), c: profile('cm-c') });
        swap('..2026_01_01_00_05_00.000000002', '..2026_01_01_00_10_00.000000003');
        const second = await agent.waitForLog((r) => r.message === 'schedule reloaded', { from: mark, timeoutMs: 5_000 });
        expect({ reason: second['reason'], added: second['added'] }, 'the second swap').to.deep.equal({ reason: 'schedule file changed', added: ['c'] });

        // Same bytes: no reload at all.
        mark = agent.logs().length;
        const file = join(mount, '..2026_01_01_00_10_00.000000003', 'agent.yaml');
        chmodSync(file, 0o400);
        utimesSync(file, new Date(), new Date());
        await new Promise((r) => setTimeout(r, 1_500));
        expect(agent.logs().slice(mark).filter((r) => /schedule/.test(r.message)).map((r) => r.message), 'schedule log lines after chmod and touch').to.deep.equal([]);
        await stop(agent);
      });
    }

    it('reloads when a parent directory link is swapped (/etc/agent -> v1 replaced by a link to v2)', async () => {
      const p = place();
      const write = (d: string, profiles: Record<string, ProfileSpec>) => {
        mkdirSync(join(p.dir, d), { mode: 0o700 });
        writePrivate(join(p.dir, d, 'agent.yaml'), stringify(scheduleDoc(w, p.credentials, profiles), { lineWidth: 0 }));
      };
      write('v1', { a: profile('cm-a') });
      symlinkSync('v1', join(p.dir, 'current'));
      const agent = spawnAgent(['run', '--config', join(p.dir, 'current', 'agent.yaml'), '--log-format', 'json', '--log-level', 'debug'], cleanEnv(w.dir));
      await waitFor(() => tryReadCredentials(p.credentials)?.get('a'), 'profile a written');
      await agent.waitForLog((r) => r.message === 'agent started');
      await new Promise((r) => setTimeout(r, 300));
      const mark = agent.logs().length;
      write('v2', { a: profile('cm-a'), b: profile('cm-b') });
      symlinkSync('v2', join(p.dir, 'current.tmp'));
      renameSync(join(p.dir, 'current.tmp'), join(p.dir, 'current'));
      const reloaded = await agent.waitForLog((r) => r.message === 'schedule reloaded', { from: mark, timeoutMs: 5_000 });
      expect({ reason: reloaded['reason'], added: reloaded['added'] }, 'the reload').to.deep.equal({ reason: 'schedule file changed', added: ['b'] });
      await stop(agent);
    });
  });
});
