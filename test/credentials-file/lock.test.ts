import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { acquireLock, LOCK_FUTURE_SKEW_MS, processAlive, type LockOptions } from '../../src/credentials-file/lock.js';
import { nodeFs } from '../../src/credentials-file/fs.js';
import { ManualClock } from '../../src/time/clock.js';
import { makeTempDir } from '../helpers/tmp.js';
import { errno, faultyFs } from './faulty-fs.js';
import { catchAsync, expectAgentError } from './helpers.js';

const T0 = Date.UTC(2026, 10, 22, 0, 0, 0);

describe('acquireLock', () => {
  let dir: string;
  let cleanup: () => void;
  let lockPath: string;
  let clock: ManualClock;
  let slept: number[];
  let opts: LockOptions;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir('ra-cf-lock-'));
    lockPath = join(dir, 'credentials.lock');
    clock = new ManualClock(T0);
    slept = [];
    opts = {
      clock,
      timeoutMs: 1000,
      staleMs: 60_000,
      random: () => 0.5,
      sleep: async (ms) => {
        slept.push(ms);
        clock.advance(ms);
      },
    };
  });
  afterEach(() => cleanup());

  const foreignLock = (owner: { pid: number; host: string; time: number }) =>
    writeFileSync(lockPath, JSON.stringify({ pid: owner.pid, host: owner.host, time: new Date(owner.time).toISOString() }) + '\n');

  it('creates the lock file with pid, host and time, mode 0600, and removes it on release', async () => {
    const lock = await acquireLock(lockPath, { ...opts, pid: 4242, hostname: 'box', run: 'r1' });
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).to.deep.equal({ pid: 4242, host: 'box', time: new Date(T0).toISOString(), run: 'r1' });
    expect(statSync(lockPath).mode & 0o777).to.equal(0o600);
    expect(lock.held()).to.equal(true);
    await lock.release();
    expect(existsSync(lockPath)).to.equal(false);
    expect(lock.held()).to.equal(false);
  });

  it('puts the lock in place already complete (linking a prepared file), so a writer killed halfway never leaves an empty lock', async () => {
    const linked: string[] = [];
    const fs = {
      ...nodeFs,
      link: async (existing: string, newPath: string) => {
        linked.push(readFileSync(existing, 'utf8'));
        return nodeFs.link(existing, newPath);
      },
    };
    const lock = await acquireLock(lockPath, { ...opts, fs, pid: 7, hostname: 'box', run: 'r1' });
    expect(linked.map((t) => JSON.parse(t) as unknown)).to.deep.equal([{ pid: 7, host: 'box', time: new Date(T0).toISOString(), run: 'r1' }]);
    expect(readdirSync(dir), 'prepared file removed').to.deep.equal(['credentials.lock']);
    await lock.release();
  });

  it('falls back to an exclusive create where hard links are not supported', async () => {
    const fs = { ...nodeFs, link: async () => Promise.reject(errno('EPERM')) };
    const lock = await acquireLock(lockPath, { ...opts, fs, pid: 8 });
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).to.equal(8);
    expect(readdirSync(dir)).to.deep.equal(['credentials.lock']);
    expect(lock.held()).to.equal(true);
    await lock.release();
    expect(existsSync(lockPath)).to.equal(false);
  });

  it('waits with a growing backoff while a live writer holds the lock, and takes it once released', async () => {
    foreignLock({ pid: 1, host: hostname(), time: T0 });
    let waits = 0;
    const lock = await acquireLock(lockPath, {
      ...opts,
      isAlive: () => true,
      sleep: async (ms) => {
        slept.push(ms);
        clock.advance(ms);
        if (++waits === 4) unlinkSync(lockPath);
      },
    });
    expect(slept, 'backoff').to.deep.equal([2, 4, 8, 16]);
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).to.equal(process.pid);
    await lock.release();
  });

  it('gives up after the timeout with a retryable CREDENTIALS_FILE_LOCKED naming the lock, its owner and the fix', async () => {
    foreignLock({ pid: 77, host: 'other-host', time: T0 });
    const e = expectAgentError(await catchAsync(acquireLock(lockPath, opts)), 'CREDENTIALS_FILE_LOCKED', lockPath, 'pid 77', 'other-host');
    expect(e.retryable).to.equal(true);
    expect(e.hint).to.include(`delete ${lockPath}`);
    expect(clock.now() - T0, 'waited until the timeout').to.equal(1000);
    expect(Math.max(...slept), 'backoff is capped').to.be.at.most(100);
    expect(existsSync(lockPath), 'the live lock stays').to.equal(true);
  });

  it('breaks a lock whose owner is a dead process on this host', async () => {
    foreignLock({ pid: 12345, host: 'box', time: T0 });
    const lock = await acquireLock(lockPath, { ...opts, hostname: 'box', isAlive: (pid) => pid !== 12345 });
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).to.equal(process.pid);
    expect(slept, 'no waiting').to.deep.equal([]);
    expect(readdirSync(dir), 'nothing left aside').to.deep.equal(['credentials.lock']);
    await lock.release();
  });

  it('breaks a lock left by an earlier process that had the same pid on this host (a restarted container\'s PID 1)', async () => {
    writeFileSync(lockPath, JSON.stringify({ pid: 1, host: 'box', time: new Date(T0).toISOString(), run: 'previous-life' }));
    const lock = await acquireLock(lockPath, { ...opts, pid: 1, hostname: 'box', run: 'this-life', isAlive: () => true });
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).run).to.equal('this-life');
    expect(slept, 'no waiting').to.deep.equal([]);
    await lock.release();
  });

  it('waits for a lock held by another writer of this same process', async () => {
    writeFileSync(lockPath, JSON.stringify({ pid: 1, host: 'box', time: new Date(T0).toISOString(), run: 'this-life' }));
    expectAgentError(await catchAsync(acquireLock(lockPath, { ...opts, pid: 1, hostname: 'box', run: 'this-life' })), 'CREDENTIALS_FILE_LOCKED', 'pid 1 on box');
  });

  it('does not judge a lock from another host by its pid, only by its age', async () => {
    foreignLock({ pid: 12345, host: 'other', time: T0 });
    expectAgentError(await catchAsync(acquireLock(lockPath, { ...opts, hostname: 'box', isAlive: () => false })), 'CREDENTIALS_FILE_LOCKED');
  });

  it('breaks a lock older than the stale age even if its owner seems alive', async () => {
    foreignLock({ pid: 1, host: 'other', time: T0 - 61_000 });
    const lock = await acquireLock(lockPath, { ...opts, isAlive: () => true });
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).to.equal(process.pid);
    await lock.release();
  });

  it('judges an unreadable (half-written) lock by its modification time', async () => {
    writeFileSync(lockPath, '{"pid":');
    const old = (T0 - 120_000) / 1000;
    utimesSync(lockPath, old, old);
    const lock = await acquireLock(lockPath, opts);
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).to.equal(process.pid);
    await lock.release();
  });

  it('breaks a lock dated in the future beyond a small skew (another host\'s fast clock, or garbage)', async () => {
    foreignLock({ pid: 1, host: 'fast-clock', time: T0 + 86_400_000 });
    const lock = await acquireLock(lockPath, { ...opts, isAlive: () => true });
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid, 'our lock now').to.equal(process.pid);
    await lock.release();
    writeFileSync(lockPath, 'garbage');
    const future = (T0 + 3_600_000) / 1000;
    utimesSync(lockPath, future, future);
    const again = await acquireLock(lockPath, opts);
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid, 'garbage with a future mtime broken').to.equal(process.pid);
    await again.release();
  });

  it('does not break a lock dated within the skew at once, but once this process has seen it unchanged for the stale age', async () => {
    const time = T0 + LOCK_FUTURE_SKEW_MS - 1000;
    foreignLock({ pid: 1, host: 'other', time });
    const seen = new Map<string, number>();
    expectAgentError(await catchAsync(acquireLock(lockPath, { ...opts, seen })), 'CREDENTIALS_FILE_LOCKED');
    clock.advance(52_000);
    // By its own date it is 44 s old; this process has watched it unchanged for 53 s.
    expectAgentError(await catchAsync(acquireLock(lockPath, { ...opts, seen })), 'CREDENTIALS_FILE_LOCKED');
    clock.advance(8_000);
    expect(clock.now() - time, 'by its date, still younger than the stale age').to.be.lessThan(60_000);
    const lock = await acquireLock(lockPath, { ...opts, seen });
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).to.equal(process.pid);
    await lock.release();
  });

  it('refuses a FIFO at the lock path at once instead of hanging in open()', async () => {
    expect(spawnSync('mkfifo', [lockPath]).status, 'mkfifo').to.equal(0);
    const started = Date.now();
    const e = await Promise.race([catchAsync(acquireLock(lockPath, opts)), new Promise((r) => setTimeout(() => r('hung'), 5_000))]);
    expect(e, 'rejected, not hung').to.not.equal('hung');
    expectAgentError(e, 'CREDENTIALS_FILE', lockPath, 'not a regular file');
    expect(Date.now() - started, 'ms').to.be.lessThan(5_000);
  });

  it('refuses a lock that is a symbolic link (to /dev/zero) without reading it', async () => {
    symlinkSync('/dev/zero', lockPath);
    const e = await Promise.race([catchAsync(acquireLock(lockPath, opts)), new Promise((r) => setTimeout(() => r('hung'), 5_000))]);
    expectAgentError(e, 'CREDENTIALS_PATH_UNTRUSTED', lockPath, 'symbolic link');
  });

  it('reads at most a few KiB of a huge lock file, and judges it by its age', async () => {
    writeFileSync(lockPath, '{"pid":1');
    truncateSync(lockPath, 512 * 1024 * 1024);
    const old = (T0 - 120_000) / 1000;
    utimesSync(lockPath, old, old);
    let wholeReads = 0;
    const fs = { ...nodeFs, readFile: async (p: string) => (wholeReads++, nodeFs.readFile(p)) };
    const lock = await acquireLock(lockPath, { ...opts, fs });
    expect(wholeReads, 'whole-file reads').to.equal(0);
    await lock.release();
  });

  it('waits for a fresh half-written lock instead of breaking it', async () => {
    writeFileSync(lockPath, '');
    const now = T0 / 1000;
    utimesSync(lockPath, now, now);
    expectAgentError(await catchAsync(acquireLock(lockPath, opts)), 'CREDENTIALS_FILE_LOCKED', 'an unknown writer');
  });

  it('puts back a live lock that replaced the stale one between the look and the steal', async () => {
    foreignLock({ pid: 12345, host: 'box', time: T0 });
    const fresh = join(dir, 'fresh');
    writeFileSync(fresh, JSON.stringify({ pid: 1, host: 'box', time: new Date(T0).toISOString() }));
    let swapped = false;
    const fs = {
      ...nodeFs,
      rename: async (from: string, to: string) => {
        if (!swapped && from === lockPath) {
          // The stale owner's lock is removed and a live writer takes the lock, just before our steal.
          swapped = true;
          unlinkSync(lockPath);
          linkSync(fresh, lockPath);
        }
        return nodeFs.rename(from, to);
      },
    };
    const e = await catchAsync(acquireLock(lockPath, { ...opts, fs, hostname: 'box', isAlive: (pid) => pid !== 12345 }));
    expectAgentError(e, 'CREDENTIALS_FILE_LOCKED', 'pid 1 on box');
    expect(statSync(lockPath).ino, 'the live lock is back in place').to.equal(statSync(fresh).ino);
    expect(readdirSync(dir).sort()).to.deep.equal(['credentials.lock', 'fresh']);
  });

  it('does not remove a lock that is no longer its own on release', async () => {
    const lock = await acquireLock(lockPath, opts);
    renameSync(lockPath, join(dir, 'gone'));
    writeFileSync(lockPath, 'someone else');
    expect(lock.held()).to.equal(false);
    await lock.release();
    expect(readFileSync(lockPath, 'utf8')).to.equal('someone else');
  });

  it('reports a lock that cannot be created (read-only directory) as CREDENTIALS_FILE with the fix', async () => {
    const e = expectAgentError(await catchAsync(acquireLock(lockPath, { ...opts, fs: faultyFs({ 'lock-open': errno('EROFS') }) })), 'CREDENTIALS_FILE', lockPath, 'read-only');
    expect(e.hint).to.include('writable');
  });

  it('tells a live process from a dead one', () => {
    expect(processAlive(process.pid)).to.equal(true);
    expect(processAlive(2 ** 22 + 12345)).to.equal(false);
  });
});
