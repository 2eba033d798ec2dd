/**
 * The advisory lock the agent's writers take around a replace: a sibling file `<credentials>.lock`
 * holding {pid, host, time, run}, created complete in one step (hard link of a prepared file; O_EXCL where
 * links are not supported). A lock whose owner is a dead process on this host,
 * or that is older than `staleMs`, is broken by renaming it aside and checking that what was moved is
 * the very file judged stale (if a live lock slipped in meanwhile, it is put back). Waiting uses a
 * capped exponential backoff with jitter until `timeoutMs`, then fails with CREDENTIALS_FILE_LOCKED
 * (retryable). Only writers of this project take the lock; other tools are handled by the
 * re-read-before-rename check in replace.ts.
 *
 * The lock is read under the path-trust rule (trust.ts): a lock that is not a regular file (a FIFO,
 * a symbolic link to /dev/zero) or that another user owns is refused, never opened blocking or read
 * whole. Its age is judged by this host's clock: a lock dated in the future beyond a small skew (a
 * fast clock on another host, garbage) is stale, and so is one this process has seen unchanged for
 * longer than `staleMs`, whatever date it carries.
 */
import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { AgentError } from '../errors.js';
import { systemClock, type Clock } from '../time/clock.js';
import { errnoCode, nodeFs, O, type FileStat, type Fs } from './fs.js';
import { defaultTrust, openTrusted, readAtMost, type Trust } from './trust.js';

export interface LockOptions {
  /** How long to wait for a held lock (default 10 s). */
  timeoutMs?: number;
  /** A lock older than this is stale even if its owner seems alive (default 60 s; a replace takes milliseconds). */
  staleMs?: number;
  clock?: Clock;
  /** Waits between attempts; tests pass one that moves a ManualClock. */
  sleep?: (ms: number) => Promise<void>;
  fs?: Fs;
  pid?: number;
  hostname?: string;
  /** This process's run id (default: random per process); tests pass one to play another process. */
  run?: string;
  /** Whether a process on this host is alive (default: signal 0). */
  isAlive?: (pid: number) => boolean;
  random?: () => number;
  /** Who may own the lock (default: root and the agent's user). */
  trust?: Trust;
  /**
   * When this process first saw each lock unchanged (by identity), by its own clock: kept across
   * calls by the caller (the writer) so a lock that never changes goes stale whatever its date says.
   */
  seen?: Map<string, number>;
}

export interface LockOwner {
  pid: number;
  host: string;
  /** ISO-8601, from the owner's clock. */
  time: string;
  /** Random per process: tells this process from an earlier one that had the same pid. */
  run?: string;
}

/**
 * This process's `run`. A restarted container's agent is often PID 1 again, on the same host name:
 * without this, the lock its previous life left behind would look like its own and block it until
 * the lock went stale.
 */
const RUN = randomBytes(8).toString('hex');

export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
export const DEFAULT_LOCK_STALE_MS = 60_000;
/** A lock dated further in the future than this is stale: no clock of a sharing host is that far off. */
export const LOCK_FUTURE_SKEW_MS = 10_000;
/** A lock is a line of JSON; anything larger is not ours. */
export const MAX_LOCK_BYTES = 4096;

export function lockPathFor(file: string): string {
  return `${file}.lock`;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return errnoCode(e) === 'EPERM';
  }
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.time === 'string' && Number.isFinite(Date.parse(o.time))) {
      return { pid: o.pid, host: o.host, time: o.time, ...(typeof o.run === 'string' ? { run: o.run } : {}) };
    }
  } catch {
    // a lock being written, or not ours: judged by its age alone
  }
  return undefined;
}

function lockIoError(lockPath: string, e: unknown): AgentError {
  const code = errnoCode(e);
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'EROFS'
        ? 'read-only file system'
        : code === 'ENOSPC' || code === 'EDQUOT'
          ? 'no space left on the device'
          : (code ?? 'unexpected error');
  return new AgentError('CREDENTIALS_FILE', `cannot create the lock file ${lockPath} (${why})`, {
    cause: e,
    hint: 'the directory of the credentials file must be writable by the agent\'s user; fix its permissions or choose another credentials_file',
  });
}

export class FileLock {
  private released = false;

  constructor(
    readonly path: string,
    private readonly identity: { dev: number; ino: number },
    private readonly fs: Fs,
  ) {}

  /** True while the lock file on disk is still the one this lock created (checked synchronously). */
  held(): boolean {
    if (this.released) return false;
    try {
      const st = this.fs.statSync(this.path);
      return st.ino === this.identity.ino && st.dev === this.identity.dev;
    } catch {
      return false;
    }
  }

  /** Removes the lock file if it is still ours; never throws. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      const st = await this.fs.lstat(this.path);
      if (st.ino === this.identity.ino && st.dev === this.identity.dev) await this.fs.unlink(this.path);
    } catch {
      // gone already, or the directory vanished: nothing of ours is left to remove
    }
  }
}

export async function acquireLock(lockPath: string, options: LockOptions = {}): Promise<FileLock> {
  const fs = options.fs ?? nodeFs;
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const isAlive = options.isAlive ?? processAlive;
  const pid = options.pid ?? process.pid;
  const host = options.hostname ?? osHostname();
  const run = options.run ?? RUN;
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const staleMs = options.staleMs ?? DEFAULT_LOCK_STALE_MS;
  const trust = options.trust ?? defaultTrust();
  const seen = options.seen ?? new Map<string, number>();
  const started = clock.now();
  let delay = 2;
  let lastOwner: LockOwner | undefined;

  for (;;) {
    const owner: LockOwner = { pid, host, time: new Date(clock.now()).toISOString(), run };
    const created = await create(fs, lockPath, Buffer.from(`${JSON.stringify(owner)}\n`));
    if (created === 'retry') continue;
    if (created !== 'exists') return new FileLock(lockPath, created, fs);

    const held = await inspect(fs, lockPath, trust);
    if (held) {
      lastOwner = held.owner;
      const since = held.owner ? Date.parse(held.owner.time) : held.stat.mtimeMs;
      const o = held.owner;
      const ownerGone = o !== undefined && o.host === host && (o.pid === pid ? o.run !== run : !isAlive(o.pid));
      const now = clock.now();
      const identity = `${held.stat.dev}:${held.stat.ino}:${held.stat.mtimeMs}:${held.stat.size}`;
      if (!seen.has(identity)) {
        if (seen.size >= 16) seen.clear(); // only the lock of one file: a few identities at most
        seen.set(identity, now);
      }
      const unchangedFor = now - seen.get(identity)!;
      const future = since - now > LOCK_FUTURE_SKEW_MS;
      if (ownerGone || future || now - since > staleMs || unchangedFor > staleMs) {
        await breakStale(fs, lockPath, held.stat);
        continue;
      }
    } else {
      continue; // released between our attempt and our look: try again at once
    }

    const waited = clock.now() - started;
    if (waited >= timeoutMs) {
      const by = lastOwner ? `pid ${lastOwner.pid} on ${lastOwner.host} since ${lastOwner.time}` : 'an unknown writer';
      throw new AgentError('CREDENTIALS_FILE_LOCKED', `the credentials file lock ${lockPath} is held by ${by}; gave up after ${Math.round(waited)} ms`, {
        retryable: true,
        hint: `another rolesanywhere-agent is writing the file; if none is running, delete ${lockPath}`,
      });
    }
    const wait = Math.min(delay * (0.5 + random()), timeoutMs - waited);
    await sleep(Math.max(1, wait));
    delay = Math.min(delay * 2, 100);
  }
}

/** Names of the files a lock is prepared in before it is linked into place. */
export function isLockTemp(lockPath: string, name: string): boolean {
  const prefix = `${lockPath.slice(lockPath.lastIndexOf('/') + 1)}.`;
  return name.startsWith(prefix) && /^[0-9a-f]{12}\.tmp$/.test(name.slice(prefix.length));
}

/**
 * Creates the lock with its content in one step: the content goes into a private temp file that is
 * then hard-linked to the lock name (link fails if the name exists). So a lock is never seen empty,
 * even when its writer is killed halfway. Where hard links are not supported, falls back to an
 * O_EXCL create followed by the write.
 */
async function create(fs: Fs, lockPath: string, content: Buffer): Promise<{ dev: number; ino: number } | 'exists' | 'retry'> {
  const tmp = `${lockPath}.${randomBytes(6).toString('hex')}.tmp`;
  let identity: { dev: number; ino: number };
  try {
    const fh = await fs.open(tmp, O.O_CREAT | O.O_EXCL | O.O_WRONLY, 0o600);
    try {
      await fh.writeFile(content);
      const st = await fh.stat();
      identity = { dev: st.dev, ino: st.ino };
    } finally {
      await fh.close();
    }
  } catch (e) {
    await fs.unlink(tmp).catch(() => undefined);
    throw lockIoError(lockPath, e);
  }
  try {
    await fs.link(tmp, lockPath);
    return identity;
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'EEXIST') return 'exists';
    if (code === 'ENOENT') return 'retry'; // our temp was tidied away by the lock holder
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS' || code === 'EMLINK') return createInPlace(fs, lockPath, content);
    throw lockIoError(lockPath, e);
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
}

async function createInPlace(fs: Fs, lockPath: string, content: Buffer): Promise<{ dev: number; ino: number } | 'exists'> {
  let fh;
  try {
    fh = await fs.open(lockPath, O.O_CREAT | O.O_EXCL | O.O_WRONLY, 0o600);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return 'exists';
    throw lockIoError(lockPath, e);
  }
  try {
    await fh.writeFile(content);
    const st = await fh.stat();
    await fh.close();
    return { dev: st.dev, ino: st.ino };
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fs.unlink(lockPath).catch(() => undefined);
    throw lockIoError(lockPath, e);
  }
}

async function inspect(fs: Fs, lockPath: string, trust: Trust): Promise<{ stat: FileStat; owner: LockOwner | undefined } | undefined> {
  let opened;
  try {
    opened = await openTrusted(lockPath, trust, { fs, what: `lock file ${lockPath}`, targetOwner: 'trusted' });
  } catch (e) {
    if (e instanceof AgentError) throw e;
    throw lockIoError(lockPath, e);
  }
  if (!opened) return undefined;
  try {
    const bytes = await readAtMost(opened.file, opened.stat, MAX_LOCK_BYTES);
    return { stat: opened.stat, owner: bytes ? parseOwner(bytes.toString('utf8')) : undefined };
  } catch (e) {
    throw lockIoError(lockPath, e);
  } finally {
    await opened.file.close().catch(() => undefined);
  }
}

/** Rename-steal: only the file judged stale is removed; a live lock moved by mistake goes back. */
async function breakStale(fs: Fs, lockPath: string, stale: FileStat): Promise<void> {
  const aside = `${lockPath}.stale.${randomBytes(6).toString('hex')}`;
  try {
    await fs.rename(lockPath, aside);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return; // another writer broke it first
    throw lockIoError(lockPath, e);
  }
  try {
    const moved = await fs.lstat(aside);
    if (moved.ino !== stale.ino || moved.dev !== stale.dev) {
      // A fresh lock replaced the stale one between our look and our rename: restore it unless
      // someone already holds the name again.
      await fs.link(aside, lockPath).catch(() => undefined);
    }
  } finally {
    await fs.unlink(aside).catch(() => undefined);
  }
}
