import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { statePathFor, writeState } from '../../src/agent/state-file.js';
import { onceCommand } from '../../src/cli/once.js';
import { statusCommand } from '../../src/cli/status.js';
import type { StatusDocument } from '../../src/observability/status-document.js';
import { describeCertificate } from '../../src/keys/load.js';
import { captureIO } from '../helpers/io.js';
import type { Issued } from '../helpers/pki.js';
import { makeTempDir } from '../helpers/tmp.js';
import { makeWorld, roleArn, type World } from '../helpers/world.js';
import { cleanEnv, ensureBuilt, killAll, runCli, spawnAgent, waitFor } from '../agent/fixtures/agent-process.js';
import { scheduleDoc, writeSchedule, type ProfileSpec } from '../agent/fixtures/schedule.js';

type StatusJson = StatusDocument;

describe('status', function () {
  this.timeout(30_000);
  let w: World;
  const cleanups: Array<() => void> = [];
  before(async function () {
    this.timeout(60_000);
    ensureBuilt();
    w = await makeWorld({ roles: ['app', 'backup', 'deploy', 'audit', 'gone'].map(roleArn) });
  });
  after(async () => {
    killAll();
    cleanups.forEach((c) => c());
    await w.cleanup();
  });

  const setup = (profiles: Record<string, ProfileSpec>) => {
    const t = makeTempDir('ra-status-');
    cleanups.push(t.cleanup);
    const credentials = join(t.dir, 'aws', 'credentials');
    const schedule = writeSchedule(join(t.dir, 'schedule.yaml'), scheduleDoc(w, credentials, profiles));
    return { dir: t.dir, credentials, schedule };
  };
  const status = async (schedule: string, home: string): Promise<{ code: number; json: StatusJson }> => {
    const io = captureIO({ HOME: home });
    const code = await statusCommand(['--config', schedule, '--json'], io);
    expect(io.err(), 'stderr of status').to.equal('');
    return { code, json: JSON.parse(io.out()) as StatusJson };
  };
  const issuedFor = (role: string) => w.emulator.issued.filter((i) => i.roleArn === roleArn(role));
  const certificateOf = (leaf: Issued) => {
    const notAfter = describeCertificate(leaf.nodeCert).notAfter;
    return { certificateNotAfter: notAfter.toISOString(), certificateDaysLeft: Math.floor((notAfter.getTime() - Date.now()) / 86_400_000) };
  };

  it('after once: every profile valid, with its expiry and its certificate days left, no agent running, exit 0', async () => {
    const s = setup({ web: { role: 'app', key: w.rsaFiles }, db: { role: 'backup', key: w.ecFiles } });
    expect(await onceCommand(['--config', s.schedule], captureIO({ HOME: s.dir }))).to.equal(0);
    const { code, json } = await status(s.schedule, s.dir);
    expect(code, 'exit code').to.equal(0);
    expect(json.live, 'live').to.equal(false);
    expect(json.credentialsFile).to.equal(s.credentials);
    expect(json.source, 'read from the state file once left').to.equal('state-file');
    expect(Date.parse(json.updatedAt!), 'state file time').to.be.closeTo(Date.now(), 10_000);
    expect(json.profiles.map((p) => p.profile)).to.deep.equal(['web', 'db']);
    expect(json.profiles[0]).to.include({
      state: 'fresh',
      valid: true,
      credentialsExpire: new Date(issuedFor('app')[0]!.expiration).toISOString(),
      ...certificateOf(w.rsa.leaf),
    });
    expect(json.profiles[1]).to.include({
      state: 'fresh',
      valid: true,
      credentialsExpire: new Date(issuedFor('backup')[0]!.expiration).toISOString(),
      ...certificateOf(w.ec.directLeaf),
    });
    expect(json.profiles[0]!.nextRefresh, 'once leaves no next refresh: nothing will run it').to.equal(undefined);
    expect(Date.parse(json.profiles[0]!.lastSuccess!), 'last success').to.be.closeTo(Date.now(), 10_000);
  });

  it('exits 6 when a profile has no credentials or expired ones, showing the last error', async () => {
    const s = setup({ web: { role: 'deploy', key: w.ecFiles }, denied: { role: 'not-granted', key: w.ecFiles }, old: { role: 'audit', key: w.ecFiles } });
    expect(await onceCommand(['--config', s.schedule], captureIO({ HOME: s.dir })), 'once exit code').to.equal(6);
    const expiredAt = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    // Status reports what the agent knows (its state file), not a guess from the credentials file:
    // age the 'old' profile there.
    const statePath = statePathFor(s.credentials, 'once');
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { profiles: Array<{ name: string; expiration?: string }> };
    state.profiles.find((p) => p.name === 'old')!.expiration = new Date(expiredAt).toISOString();
    writeFileSync(statePath, JSON.stringify(state));
    const { code, json } = await status(s.schedule, s.dir);
    expect(code, 'exit code').to.equal(6);
    const rows = Object.fromEntries(json.profiles.map((r) => [r.profile, r]));
    expect(rows['web']?.valid).to.equal(true);
    expect(rows['denied']).to.include({ valid: false });
    expect(rows['denied']?.credentialsExpire, 'expiry of a profile never written').to.equal(undefined);
    expect(rows['denied']?.lastError).to.equal(
      `ACCESS_DENIED: profile "denied": CreateSession failed with 403 AccessDeniedException: Unable to assume role for ${roleArn('not-granted')}: the role does not exist`,
    );
    expect(rows['old']).to.include({ valid: false, credentialsExpire: new Date(expiredAt).toISOString() });

    const io = captureIO({ HOME: s.dir });
    expect(await statusCommand(['--config', s.schedule], io)).to.equal(6);
    const lines = io.out().split('\n');
    expect(lines[0]).to.match(new RegExp(`^${s.credentials.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(no agent running; state as of .*\\) — NOT HEALTHY$`));
    expect(lines[2]?.split('\t').slice(0, 2)).to.deep.equal(['denied', 'NO CREDENTIALS']);
    expect(lines[3]?.split('\t').slice(0, 2)).to.deep.equal(['old', `EXPIRED ${new Date(expiredAt).toISOString()}`]);
  });

  it('shows the serve: listeners the running agent recorded in its state file (text and --json), and the configured ones while none runs', async () => {
    const t = makeTempDir('ra-status-');
    cleanups.push(t.cleanup);
    const credentials = join(t.dir, 'aws', 'credentials');
    const tokenDir = join(t.dir, 'tokens');
    const schedule = writeSchedule(
      join(t.dir, 'schedule.yaml'),
      scheduleDoc(w, credentials, { web: { role: 'app', key: w.rsaFiles } }, { serve: { ecs: { listen: '127.0.0.1:9912', token_dir: tokenDir }, imds: { listen: '127.0.0.1:9911', profile: 'web' } } }),
    );
    // What run writes once its listeners are up (port 0 resolved); this test's own pid stands for a live agent.
    const running = [
      { endpoint: 'ecs' as const, address: 'http://127.0.0.1:41001/v1/credentials/', tokenDir },
      { endpoint: 'imds' as const, address: 'http://127.0.0.1:41002/', profile: 'web' },
    ];
    const stateOf = (pid: number) => ({ version: 1 as const, pid, command: 'run' as const, schedule, updatedAt: new Date().toISOString(), profiles: [], serve: running });
    mkdirSync(join(t.dir, 'aws'), { recursive: true, mode: 0o700 });
    await writeState(credentials, stateOf(process.pid));

    const live = await status(schedule, t.dir);
    expect(live.json.live, 'live').to.equal(true);
    expect(live.json.serve, '--json serve rows of the running agent').to.deep.equal([
      { endpoint: 'ecs', address: running[0]!.address, serving: true, tokenDir },
      { endpoint: 'imds', address: running[1]!.address, serving: true, profile: 'web' },
    ]);
    const io = captureIO({ HOME: t.dir });
    await statusCommand(['--config', schedule], io);
    expect(io.out().split('\n').slice(-3), 'text lines').to.deep.equal([
      `serving ecs: ${running[0]!.address} (tokens in ${tokenDir})`,
      `serving imds: ${running[1]!.address} (profile web)`,
      '',
    ]);

    // A state file whose agent is gone: its listeners are not served; the schedule's are shown as configured.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeState(credentials, stateOf(dead));
    const stopped = await status(schedule, t.dir);
    expect(stopped.json.live, 'live').to.equal(false);
    expect(stopped.json.serve, '--json serve rows with no agent running').to.deep.equal([
      { endpoint: 'ecs', address: '127.0.0.1:9912', serving: false },
      { endpoint: 'imds', address: '127.0.0.1:9911', serving: false, profile: 'web' },
    ]);
  });

  it('exits 2 for a schedule that cannot be read', async () => {
    const t = makeTempDir('ra-status-');
    cleanups.push(t.cleanup);
    const io = captureIO({ HOME: t.dir });
    expect(await statusCommand(['--config', join(t.dir, 'missing.yaml')], io)).to.equal(2);
    expect(io.err()).to.equal(
      `rolesanywhere-agent status: schedule ${join(t.dir, 'missing.yaml')} has 1 problem:\n  schedule: cannot read the schedule ${join(t.dir, 'missing.yaml')}: it does not exist — check the --config path and that the agent user can read it\n`,
    );
  });

  it('with a running agent: says it is running and shows each profile\'s next refresh; after SIGTERM, that none is running', async () => {
    const s = setup({ web: { role: 'app', key: w.rsaFiles }, db: { role: 'backup', key: w.ecFiles } });
    const agent = spawnAgent(['run', '--config', s.schedule, '--log-format', 'json'], cleanEnv(s.dir));
    const refreshed = await Promise.all(['web', 'db'].map((p) => agent.waitForLog((r) => r.message === 'credentials refreshed' && r['profile'] === p)));
    const live = await waitFor(async () => {
      const r = await status(s.schedule, s.dir);
      return r.json.profiles.every((p) => p.nextRefresh) ? r : undefined;
    }, 'status to show the next refreshes');
    expect(live.code, 'exit code').to.equal(0);
    expect(live.json.live, 'live').to.equal(true);
    expect(live.json.profiles.map((p) => [p.profile, p.valid, p.state, p.nextRefresh])).to.deep.equal([
      ['web', true, 'fresh', refreshed[0]!['next_refresh']],
      ['db', true, 'fresh', refreshed[1]!['next_refresh']],
    ]);
    for (const p of live.json.profiles) {
      const next = Date.parse(p.nextRefresh!);
      const expires = Date.parse(p.credentialsExpire!);
      // one-hour session, 15-minute margin: the first refresh after a start is spread from a
      // quarter of the session (45 min before expiry) to the margin
      expect(expires - next, `ms between ${p.profile}'s next refresh and its expiry`).to.be.within(15 * 60_000, 45 * 60_000);
    }
    const text = await runCli(['status', '--config', s.schedule], cleanEnv(s.dir));
    expect(text.code, `exit code; stderr: ${text.stderr}`).to.equal(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).to.match(new RegExp(`\\(agent running, pid ${agent.pid}; state file of `));
    expect(lines[1]).to.include(`\tnext refresh ${refreshed[0]!['next_refresh']}\t`);

    agent.kill('SIGTERM');
    expect((await agent.exited).code, 'agent exit code').to.equal(0);
    const after = await status(s.schedule, s.dir);
    expect(after.json.live, 'live after the agent stopped').to.equal(false);
    expect(after.json.profiles.map((p) => [p.valid, p.nextRefresh, p.state])).to.deep.equal([
      [true, undefined, 'stopped'],
      [true, undefined, 'stopped'],
    ]);
    expect(after.code, 'exit code: the credentials are still valid').to.equal(0);
  });

  it('with a running agent, a once on the same schedule leaves the agent its state file, and status still finds the agent', async () => {
    const s = setup({ web: { role: 'app', key: w.rsaFiles }, db: { role: 'backup', key: w.ecFiles } });
    const agent = spawnAgent(['run', '--config', s.schedule, '--log-format', 'json'], cleanEnv(s.dir));
    await waitFor(async () => {
      const r = await status(s.schedule, s.dir);
      return r.json.live && r.json.profiles.every((p) => p.nextRefresh) ? r : undefined;
    }, 'status to show the running agent');
    const runState = readFileSync(statePathFor(s.credentials), 'utf8');
    expect(await onceCommand(['--config', s.schedule], captureIO({ HOME: s.dir })), 'exit code of once').to.equal(0);
    expect(readFileSync(statePathFor(s.credentials), 'utf8'), "the running agent's state file after once").to.equal(runState);
    const during = await status(s.schedule, s.dir);
    expect([during.json.live, during.json.pid], 'live and pid after once').to.deep.equal([true, agent.pid]);
    const text = await runCli(['status', '--config', s.schedule], cleanEnv(s.dir));
    expect(text.stdout.split('\n')[0], 'first line of status').to.match(new RegExp(`\\(agent running, pid ${agent.pid}; state file of `));
    agent.kill('SIGTERM');
    expect((await agent.exited).code, 'agent exit code').to.equal(0);
    // Stopped: the newest state of the two (the agent's, saved at its stop) is shown.
    const after = await status(s.schedule, s.dir);
    expect([after.json.live, after.json.pid], 'live and pid after the agent stopped').to.deep.equal([false, agent.pid]);
  });
});
