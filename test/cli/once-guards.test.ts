/**
 * `once` and `status` as processes against a FIFO planted at the lock or the state file: they used
 * to hang in open() (a thread-pool thread stuck) past two SIGTERMs. Now they refuse and exit.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { statePathFor } from '../../src/agent/state-file.js';
import { makeTempDir } from '../helpers/tmp.js';
import { makeWorld, roleArn, type World } from '../helpers/world.js';
import { cleanEnv, ensureBuilt, killAll, runCli } from '../agent/fixtures/agent-process.js';
import { scheduleDoc, writeSchedule } from '../agent/fixtures/schedule.js';

describe('once and status: guarded lock and state file, the path-trust settings', function () {
  this.timeout(60_000);
  let w: World;
  const cleanups: Array<() => void> = [];
  before(async function () {
    this.timeout(180_000); // a build, on a busy machine
    ensureBuilt();
    w = await makeWorld({ roles: [roleArn('app')] });
  });
  after(async () => {
    killAll();
    cleanups.forEach((c) => c());
    await w.cleanup();
  });

  const setup = (top: Record<string, unknown> = {}) => {
    const t = makeTempDir('ra-once-fifo-');
    cleanups.push(t.cleanup);
    mkdirSync(join(t.dir, 'aws'), { mode: 0o700 });
    const credentials = join(t.dir, 'aws', 'credentials');
    const schedule = writeSchedule(join(t.dir, 'schedule.yaml'), scheduleDoc(w, credentials, { web: { role: 'app', key: w.ecFiles } }, top));
    return { dir: t.dir, credentials, schedule };
  };
  const fifo = (path: string) => expect(spawnSync('mkfifo', [path]).status, `mkfifo ${path}`).to.equal(0);

  it('once exits (6, the profile failed, naming the lock) instead of hanging on a FIFO lock', async () => {
    const s = setup();
    fifo(`${s.credentials}.lock`);
    const started = Date.now();
    const r = await runCli(['once', '--config', s.schedule], cleanEnv(s.dir), 30_000);
    expect(r.code, `exit code (null: killed after hanging); stderr ${r.stderr}`).to.equal(6);
    expect(r.stdout).to.include(`lock file ${s.credentials}.lock is not a regular file`);
    expect(Date.now() - started, 'ms to exit').to.be.lessThan(30_000);
  });

  it('once and status exit instead of hanging on a FIFO state file', async () => {
    const s = setup();
    // once writes its own state file; status reads the agent's first: a FIFO at each.
    fifo(statePathFor(s.credentials, 'once'));
    fifo(statePathFor(s.credentials, 'run'));
    const once = await runCli(['once', '--config', s.schedule], cleanEnv(s.dir), 30_000);
    expect(once.code, `once exit code (null: killed after hanging); stderr ${once.stderr}`).to.equal(0);
    expect(once.stderr, 'the state file could not be written').to.include('not a regular file');
    const status = await runCli(['status', '--config', s.schedule], cleanEnv(s.dir), 30_000);
    expect(status.code, `status exit code (null: killed after hanging); stderr ${status.stderr}`).to.not.equal(null);
    expect(status.stderr).to.include('ignoring the state file');
  });

  it('once writes into a 0777 directory only with credentials_dir_shared: true, and warns at start', async () => {
    const s = setup();
    chmodSync(join(s.dir, 'aws'), 0o777);
    const refused = await runCli(['once', '--config', s.schedule], cleanEnv(s.dir), 30_000);
    expect(refused.code, `exit code; stderr ${refused.stderr}`).to.equal(6);
    expect(refused.stdout).to.include('CREDENTIALS_PATH_UNTRUSTED').and.include('0777').and.include('credentials_dir_shared');
    const shared = setup({ credentials_dir_shared: true });
    chmodSync(join(shared.dir, 'aws'), 0o777);
    const ok = await runCli(['once', '--config', shared.schedule], cleanEnv(shared.dir), 30_000);
    expect(ok.code, `exit code; stderr ${ok.stderr}`).to.equal(0);
    expect(ok.stderr).to.include('credentials_dir_shared: true');
    expect(statSync(shared.credentials).mode & 0o777).to.equal(0o600);
  });

  it('once refuses to start (exit 2) when credentials_file_owner names no user', async () => {
    const s = setup({ credentials_file_owner: 'no-such-user-ra14' });
    const r = await runCli(['once', '--config', s.schedule], cleanEnv(s.dir), 30_000);
    expect(r.code, `exit code; stderr ${r.stderr}`).to.equal(2);
    expect(r.stderr).to.include('could not start').and.include('no-such-user-ra14');
  });
});
