/**
 * The state file's guards: a FIFO or another user's file at its path is not read (status, once and
 * run used to hang in open(), or follow an http.url someone else wrote), and temp files a killed
 * writer left are removed by the next write.
 */
import { expect } from 'chai';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readState, STALE_TEMP_MS, writeState, type StateFile } from '../../src/agent/state-file.js';
import { statusCommand } from '../../src/cli/status.js';
import { ManualClock } from '../../src/time/clock.js';
import { captureIO } from '../helpers/io.js';
import { makeTempDir } from '../helpers/tmp.js';

const SCHEDULE = (credentials: string) => `credentials_file: ${credentials}
defaults:
  certificate: /nonexistent/host.pem
  private_key: /nonexistent/host.key
  trust_anchor_arn: arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/6f1c3a52-8a7e-4c1d-9a6e-2d4b8f0e1a11
  profile_arn: arn:aws:rolesanywhere:eu-west-1:111122223333:profile/0b9d2e47-3c5f-4e8a-b1d2-7f6a5c4e3d22
profiles:
  web:
    role_arn: arn:aws:iam::111122223333:role/app
`;

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'hung'> => Promise.race([p, new Promise<'hung'>((r) => setTimeout(() => r('hung'), ms))]);

describe('the state file guards', function () {
  this.timeout(20_000);
  let dir: string;
  let cleanup: () => void;
  let credentials: string;
  let schedule: string;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir('ra-state-'));
    credentials = join(dir, 'credentials');
    schedule = join(dir, 'schedule.yaml');
    writeFileSync(schedule, SCHEDULE(credentials));
  });
  afterEach(() => cleanup());

  it('status does not hang on a FIFO at the state file: it says why it ignores it and answers', async () => {
    expect(spawnSync('mkfifo', [`${credentials}.agent-state.json`]).status, 'mkfifo').to.equal(0);
    const io = captureIO({ HOME: dir });
    const code = await within(statusCommand(['--config', schedule, '--json'], io), 5_000);
    expect(code, 'exit code (no profile is fresh)').to.equal(6);
    expect(io.err()).to.include('ignoring the state file').and.include('not a regular file');
  });

  it('status says nothing about a state file whose directories do not exist yet (before the first run)', async () => {
    writeFileSync(schedule, SCHEDULE(join(dir, 'not', 'yet', 'credentials')));
    const io = captureIO({ HOME: dir });
    await statusCommand(['--config', schedule, '--json'], io);
    expect(io.err(), 'stderr').to.equal('');
    expect(JSON.parse(io.out()).source).to.equal('none');
  });

  it('writeState refuses a FIFO at its path promptly, and readState ignores it', async () => {
    expect(spawnSync('mkfifo', [`${credentials}.agent-state.json`]).status).to.equal(0);
    const state: StateFile = { version: 1, pid: 1, command: 'run', updatedAt: new Date(0).toISOString(), profiles: [] };
    const r = await within(writeState(credentials, state).then(() => 'written', (e: unknown) => (e as { code?: string }).code), 5_000);
    expect(r).to.equal('CREDENTIALS_FILE');
    expect(await within(readState(credentials), 5_000)).to.equal(undefined);
  });

  describe('written by another user', () => {
    let user: string;
    let uid: number;
    let server: Server;
    let hits: number;
    before(async () => {
      user = `ra14s-${randomBytes(3).toString('hex')}`;
      execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', user]);
      uid = Number(execFileSync('id', ['-u', user]).toString().trim());
      server = createServer((_req, res) => {
        hits++;
        res.writeHead(500).end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    });
    after(async () => {
      spawnSync('userdel', [user]);
      await new Promise((r) => server.close(r));
    });

    it('status does not follow its http.url (and does once the agent\'s own user wrote it)', async () => {
      hits = 0;
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const state: StateFile = { version: 1, pid: process.pid, command: 'run', updatedAt: new Date().toISOString(), profiles: [], http: { url } };
      const path = `${credentials}.agent-state.json`;
      writeFileSync(path, JSON.stringify(state), { mode: 0o600 });
      chownSync(path, uid, uid);
      const io = captureIO({ HOME: dir });
      await statusCommand(['--config', schedule, '--json'], io);
      expect(hits, 'requests to the planted url').to.equal(0);
      expect(io.err()).to.include('ignoring the state file').and.include(`uid ${uid}`);
      expect(JSON.parse(io.out()).source, 'shown as no state').to.equal('none');
      chownSync(path, 0, 0);
      await statusCommand(['--config', schedule, '--json'], captureIO({ HOME: dir }));
      expect(hits, 'its own state file is followed').to.equal(1);
    });
  });

  it('a temp file a killed writer left (old or new name) is removed by the next write once older than any write takes', async () => {
    const clock = new ManualClock(Date.now());
    const legacy = join(dir, '.0123456789ab.agent-state.tmp');
    const current = join(dir, '.credentials.agent-state.json.abcdef012345.tmp');
    const fresh = join(dir, '.credentials.agent-state.json.fedcba987654.tmp');
    const notOurs = join(dir, '.credentials.agent-state.json.notours.tmp');
    for (const f of [legacy, current, fresh, notOurs]) writeFileSync(f, '{"half');
    const old = (clock.now() - STALE_TEMP_MS - 5_000) / 1000;
    for (const f of [legacy, current, notOurs]) utimesSync(f, old, old);
    const state: StateFile = { version: 1, pid: 1, command: 'run', updatedAt: new Date(0).toISOString(), profiles: [] };
    await writeState(credentials, state, { clock });
    expect(existsSync(legacy), 'old-name leftover removed').to.equal(false);
    expect(existsSync(current), 'leftover removed').to.equal(false);
    expect(existsSync(fresh), 'a live writer\'s temp kept').to.equal(true);
    expect(existsSync(notOurs), 'a file not of our pattern kept').to.equal(true);
    expect(JSON.parse(readFileSync(`${credentials}.agent-state.json`, 'utf8')).command).to.equal('run');
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp')).sort()).to.deep.equal(['.credentials.agent-state.json.fedcba987654.tmp', '.credentials.agent-state.json.notours.tmp']);
  });

  it('removes the temp file of a writer SIGKILLed in the middle of a state write (at its fsync)', async function () {
    this.timeout(30_000);
    const module = fileURLToPath(new URL('../../src/agent/state-file.ts', import.meta.url));
    const fsModule = fileURLToPath(new URL('../../src/credentials-file/fs.ts', import.meta.url));
    const script = join(dir, 'writer.mts');
    // The child's fsync never returns: it is killed there, with its temp file written and not yet renamed.
    writeFileSync(
      script,
      `import { writeState } from ${JSON.stringify(module)};
import { nodeFs } from ${JSON.stringify(fsModule)};
const fs = { ...nodeFs, open: async (p, f, m) => { const h = await nodeFs.open(p, f, m); return { ...h, stat: () => h.stat(), writeFile: (d) => h.writeFile(d), close: () => h.close(), read: (...a) => h.read(...a), readFile: () => h.readFile(), chmod: (x) => h.chmod(x), chown: (u, g) => h.chown(u, g), sync: () => { process.stdout.write('in-sync\\n'); return new Promise(() => {}); } }; } };
await writeState(${JSON.stringify(credentials)}, { version: 1, pid: process.pid, command: 'run', updatedAt: new Date().toISOString(), profiles: [] }, { fs });
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('in-sync') && resolve());
      child.on('exit', () => reject(new Error(`the writer exited before its fsync: ${err}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const left = readdirSync(dir).filter((n) => n.endsWith('.tmp'));
    expect(left, 'the killed writer left its temp file').to.have.length(1);
    const state: StateFile = { version: 1, pid: 1, command: 'run', updatedAt: new Date(0).toISOString(), profiles: [] };
    await writeState(credentials, state);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp')), 'kept while it could be a live writer\'s').to.deep.equal(left);
    await writeState(credentials, state, { clock: new ManualClock(Date.now() + STALE_TEMP_MS + 1_000) });
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp')), 'removed once older than any write takes').to.deep.equal([]);
  });
});
