/**
 * The atomic replace of the credentials file: under the writers' lock, read the file, edit our
 * profiles (edit.ts — which re-parses its result strictly and checks every value, or refuses), write
 * the result to a temp file created exclusively (mode 0600) in the same directory, fsync it, check that the file was not changed meanwhile by someone who does not take our
 * lock (else read and edit again), rename the temp file over it and fsync the directory. Whatever
 * fails before the rename, the old file is left byte-identical and the temp file is removed.
 *
 * Contract when only the directory fsync fails (after the rename): the new file is complete and in
 * place — every reader sees it — so the replace succeeds, with `durable: false` and a warning; after
 * a power loss at that moment the old file may come back whole, never a mix.
 *
 * Every path is checked first by the one path-trust rule (trust.ts): a symlinked credentials file
 * stays a symlink (its final target is replaced, in its own directory) only when every link and
 * directory on the way is owned by a trusted user. A file root writes for the user named by
 * `credentials_file_owner:` is given to that user. A mode looser than 0600 is tightened, with a
 * warning.
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { AgentError } from '../errors.js';
import { systemClock, type Clock } from '../time/clock.js';
import { checkChange, editProfiles, type ProfileChange } from './edit.js';
import { errnoCode, nodeFs, O, type FileStat, type Fs, type FsFile } from './fs.js';
import { acquireLock, isLockTemp, lockPathFor, type FileLock, type LockOptions } from './lock.js';
import { openTrusted, toTrust, walkTrusted, type Trust, type TrustPolicy } from './trust.js';

export { resolveCredentialsPath } from './path.js';

/** Larger than any real credentials file by far; bigger files are refused as "probably not one". */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** Read-edit rounds when the file keeps changing under us. */
export const DEFAULT_MAX_ATTEMPTS = 10;

export interface ReplaceOptions {
  fs?: Fs;
  /** Called once per warning (mode tightened, directory not fsynced, byte order mark); also in the result. */
  onWarning?: (message: string) => void;
  /** Lock options, or false to skip the lock (only for a caller that holds it already, or tests). */
  lock?: LockOptions | false;
  maxAttempts?: number;
  maxBytes?: number;
  clock?: Clock;
  /** Who may own the path and the file (default: root and the agent's user; see trust.ts). */
  trust?: Trust | TrustPolicy;
}

export interface ReplaceResult {
  /** The file replaced: the path itself, or its final target when it is a symlink. */
  readonly path: string;
  /** Read-edit rounds taken: more than 1 when another writer changed the file meanwhile. */
  readonly attempts: number;
  /** False when the directory fsync failed (see the header for the contract). */
  readonly durable: boolean;
  readonly warnings: readonly string[];
}

interface Current {
  readonly text: string;
  readonly stat: FileStat | undefined;
  /** The bytes read: the check before the rename compares the file with them, byte for byte. */
  readonly bytes: Buffer;
}

const NO_BYTES = Buffer.alloc(0);

/**
 * The bytes this process last put in place and their text. A replace that reads back exactly those
 * bytes (nobody else wrote the file since) reuses the text instead of decoding 1 MB again; any
 * other byte, and the file is decoded and checked afresh. One slot: the agent writes one file.
 */
let lastWritten: { bytes: Buffer; text: string } | undefined;

function hint(e: unknown, step: string): string {
  switch (errnoCode(e)) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'free some space on that file system (or raise the quota); the old file was left as it was';
    case 'EACCES':
    case 'EPERM':
      return "the directory and the file must be writable by the agent's user: fix their ownership or permissions, or run the agent as their owner";
    case 'EROFS':
      return 'the file system is mounted read-only: point credentials_file (or AWS_SHARED_CREDENTIALS_FILE) at a writable place';
    default:
      return `${step} failed; the old file was left as it was — check the disk and the directory, then retry`;
  }
}

function describeErrno(e: unknown): string {
  const code = errnoCode(e);
  switch (code) {
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    default:
      return code ?? (e instanceof Error ? e.message : String(e));
  }
}

function ioError(e: unknown, step: string, path: string): AgentError {
  if (e instanceof AgentError) return e;
  return new AgentError('CREDENTIALS_FILE', `credentials file ${path}: ${step} failed (${describeErrno(e)})`, {
    cause: e,
    hint: hint(e, step),
    retryable: errnoCode(e) === 'EIO' || errnoCode(e) === 'EAGAIN',
  });
}

function withPath(e: unknown, path: string): AgentError {
  if (!(e instanceof AgentError)) return ioError(e, 'editing', path);
  return new AgentError(e.code, `credentials file ${path}: ${e.message}`, { hint: e.hint, cause: e, retryable: e.retryable });
}

function refuse(path: string, what: string, fix: string): AgentError {
  return new AgentError('CREDENTIALS_FILE', `credentials file ${path} ${what}`, {
    hint: `${fix}; the agent left it as it was`,
  });
}

function decode(buf: Buffer, path: string): string {
  if (buf.includes(0)) {
    throw refuse(path, 'holds NUL bytes: it is a binary file, not a credentials file', 'move it away or point credentials_file at the right file');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf);
  } catch {
    throw refuse(path, 'is not valid UTF-8 text', 'convert it to UTF-8 or point credentials_file at the right file');
  }
}

/** The file's bytes and identity under the path-trust rule (none when it does not exist). */
async function readBytes(fs: Fs, path: string, maxBytes: number, trust: Trust): Promise<{ bytes: Buffer; stat: FileStat | undefined }> {
  let opened;
  try {
    opened = await openTrusted(path, trust, { fs });
  } catch (e) {
    throw ioError(e, 'reading', path);
  }
  if (!opened) return { bytes: NO_BYTES, stat: undefined };
  const { file: fh, stat: st } = opened;
  try {
    const tooBig = () => refuse(path, `is larger than ${maxBytes / (1024 * 1024)} MiB, far more than a credentials file holds`, 'check that credentials_file names the right file');
    if (st.size > maxBytes) throw tooBig();
    const buf = await fh.readFile();
    if (buf.length > maxBytes) throw tooBig();
    return { bytes: buf, stat: st };
  } catch (e) {
    throw ioError(e, 'reading', path);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

async function readCurrent(fs: Fs, path: string, maxBytes: number, trust: Trust): Promise<Current> {
  const { bytes, stat } = await readBytes(fs, path, maxBytes, trust);
  const mine = lastWritten?.bytes.equals(bytes) ? lastWritten : undefined;
  return { text: mine ? mine.text : decode(bytes, path), stat, bytes };
}

/** String.prototype.isWellFormed (Node 20; not in TypeScript's ES2023 library). */
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

function sameIdentity(a: FileStat | undefined, b: FileStat | undefined): boolean {
  if (!a || !b) return a === b;
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

const TEMP_SUFFIX = /^[0-9a-f]{12}\.tmp$/;

function tempName(dir: string, base: string): string {
  return resolve(dir, `.${base}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Under the lock, a temp file of ours (or a lock being prepared) can only be a crashed writer's: remove it. */
async function removeLeftovers(fs: Fs, dir: string, base: string): Promise<void> {
  const prefix = `.${base}.`;
  const lockPath = lockPathFor(resolve(dir, base));
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const ours = (n.startsWith(prefix) && TEMP_SUFFIX.test(n.slice(prefix.length))) || isLockTemp(lockPath, n);
    if (ours) await fs.unlink(resolve(dir, n)).catch(() => undefined);
  }
}

type Swap = { kind: 'done'; durable: boolean } | { kind: 'changed' };

async function writeAndSwap(fs: Fs, target: string, bytes: Buffer, current: Current, lock: FileLock | undefined, maxBytes: number, trust: Trust, warn: (m: string) => void): Promise<Swap> {
  const dir = dirname(target);
  let tmp: string | undefined;
  let fh: FsFile | undefined;
  let renamed = false;
  let step = 'creating a temp file';
  try {
    for (let i = 0; fh === undefined; i++) {
      const name = tempName(dir, basename(target));
      try {
        fh = await fs.open(name, O.O_CREAT | O.O_EXCL | O.O_WRONLY | O.O_NOFOLLOW, 0o600);
        tmp = name;
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST' || i >= 4) throw e;
      }
    }
    step = 'setting the temp file mode';
    await fh.chmod(0o600);
    // The file belongs to credentials_file_owner when root writes a user's file: the old file's
    // group is kept; a new one gets its directory's (the user's own directory, by the trust rule).
    step = 'reading the temp file owner';
    const mine = await fh.stat();
    const uid = current.stat?.uid ?? trust.fileOwner;
    const gid = current.stat ? current.stat.gid : uid === mine.uid ? mine.gid : (await fs.stat(dir)).gid;
    if (mine.uid !== uid || mine.gid !== gid) {
      step = `giving the temp file the owner ${uid}:${gid}`;
      await fh.chown(uid, gid);
    }
    step = 'writing the temp file';
    await fh.writeFile(bytes);
    step = 'flushing the temp file to disk';
    await fh.sync();
    step = 'closing the temp file';
    await fh.close();
    fh = undefined;

    step = 'checking for changes by other writers';
    const again = await readBytes(fs, target, maxBytes, trust);
    if (!again.bytes.equals(current.bytes) || !sameIdentity(again.stat, current.stat)) return { kind: 'changed' };
    if (lock && !lock.held()) {
      throw new AgentError('CREDENTIALS_FILE_LOCKED', `the lock ${lock.path} was broken by another writer while this one held it`, {
        retryable: true,
        hint: 'another writer judged the lock stale; retry — if it repeats, check for a hung rolesanywhere-agent',
      });
    }
    // The last check and the rename, back to back (see fs.ts).
    step = 'replacing the file';
    if (!fs.renameIfUnchanged(tmp!, target, (now) => sameIdentity(now, current.stat))) return { kind: 'changed' };
    renamed = true;
  } catch (e) {
    throw ioError(e, step, target);
  } finally {
    if (fh) await fh.close().catch(() => undefined);
    if (tmp && !renamed) await fs.unlink(tmp).catch(() => undefined);
  }

  try {
    const d = await fs.open(dir, O.O_RDONLY | O.O_DIRECTORY);
    try {
      await d.sync();
    } finally {
      await d.close().catch(() => undefined);
    }
    return { kind: 'done', durable: true };
  } catch (e) {
    warn(`credentials file ${target} was replaced, but flushing its directory ${dir} to disk failed (${describeErrno(e)}): a power loss now could bring back the previous version`);
    return { kind: 'done', durable: false };
  }
}

/**
 * Whether the agent could write its profiles into the file at `path` as it is now (`validate`): the
 * path-trust rule, a directory the agent's user can write (not a read-only mount), then it reads
 * the file as a replace does and runs the edit with no update, so a missing file passes and anything
 * a replace would refuse throws the same error, path included. Writes nothing.
 */
export async function checkCredentialsFile(path: string, options: Pick<ReplaceOptions, 'fs' | 'maxBytes' | 'trust'> = {}): Promise<void> {
  const fs = options.fs ?? nodeFs;
  const trust = await toTrust(options.trust);
  const walked = await walkTrusted(path, trust, { fs, createDir: 'check', followLast: true });
  const dir = dirname(walked.missingDir ?? walked.path);
  try {
    await fs.access(dir, O.W_OK);
  } catch (e) {
    throw new AgentError('CREDENTIALS_FILE', `credentials file ${path}: the directory ${dir} is not writable (${describeErrno(e)}), so the agent could not replace the file`, {
      cause: e,
      hint: hint(e, 'writing the directory'),
    });
  }
  const current = await readCurrent(fs, walked.path, options.maxBytes ?? MAX_FILE_BYTES, trust);
  try {
    editProfiles(current.text, []);
  } catch (e) {
    throw withPath(e, walked.path);
  }
}

/** The text of the credentials file, read under the path-trust rule ('' when it does not exist). */
export async function readCredentialsText(path: string, options: Pick<ReplaceOptions, 'fs' | 'maxBytes' | 'trust'> = {}): Promise<string> {
  const fs = options.fs ?? nodeFs;
  const trust = await toTrust(options.trust);
  const walked = await walkTrusted(path, trust, { fs, followLast: true });
  return (await readCurrent(fs, walked.path, options.maxBytes ?? MAX_FILE_BYTES, trust)).text;
}

/** Writes the given profiles into the credentials file at `path` (or takes our keys out of them), atomically (see the header). */
export async function replaceProfiles(path: string, updates: ReadonlyArray<ProfileChange>, options: ReplaceOptions = {}): Promise<ReplaceResult> {
  const fs = options.fs ?? nodeFs;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const maxBytes = options.maxBytes ?? MAX_FILE_BYTES;
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    options.onWarning?.(m);
  };
  for (const u of updates) checkChange(u); // bad input fails before the disk is touched

  const trust = await toTrust(options.trust);
  const target = (await walkTrusted(path, trust, { fs, createDir: true, followLast: true })).path;
  const dir = dirname(target);
  const lock = options.lock === false ? undefined : await acquireLock(lockPathFor(target), { fs, clock: options.clock ?? systemClock, trust, ...options.lock });
  try {
    if (lock) await removeLeftovers(fs, dir, basename(target));
    for (let attempt = 1; ; attempt++) {
      const current = await readCurrent(fs, target, maxBytes, trust);
      let candidate: string;
      try {
        candidate = editProfiles(current.text, updates);
      } catch (e) {
        throw withPath(e, target);
      }
      // editProfiles re-parsed the candidate strictly and checked every value before returning it;
      // what is written must be exactly that text.
      // UTF-8 encodes a string back to the same text unless it holds a lone surrogate half, which
      // isWellFormed finds without making a second 1 MB copy to compare.
      if (!isWellFormed(candidate)) {
        throw new AgentError('INTERNAL', `credentials file ${target}: the edited text does not survive UTF-8 encoding; nothing was written`);
      }
      const bytes = Buffer.from(candidate, 'utf8');
      const swap = await writeAndSwap(fs, target, bytes, current, lock, maxBytes, trust, warn);
      if (swap.kind === 'done') {
        lastWritten = { bytes, text: candidate };
        if (current.stat && (current.stat.mode & 0o077) !== 0) {
          warn(`credentials file ${target} had mode ${(current.stat.mode & 0o777).toString(8).padStart(4, '0')}, open to its group or others; it is now 0600`);
        }
        return { path: target, attempts: attempt, durable: swap.durable, warnings };
      }
      if (attempt >= maxAttempts) {
        throw new AgentError('CREDENTIALS_FILE', `credentials file ${target} kept changing while the agent was writing it (${attempt} attempts)`, {
          retryable: true,
          hint: 'another program rewrites the file continuously; stop it or give the agent its own credentials_file',
        });
      }
    }
  } finally {
    await lock?.release();
  }
}
