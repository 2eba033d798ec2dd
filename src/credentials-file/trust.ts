/**
 * The one path-trust rule for every file the agent writes or reads beside the credentials file:
 * the credentials file itself, its lock, its temp files and the state file. Every opener of these
 * files goes through `walkTrusted` (or `openTrusted` for a read) first.
 *
 * The rule, walked from `/` down like systemd's chase() with CHASE_SAFE:
 * - every directory is owned by a trusted user (root, the agent's user, or the user named by
 *   `credentials_file_owner:`) and is not writable by its group (unless that group is its owner's
 *   private group, as umask 002 on Debian and Ubuntu makes) or others — except a root-owned
 *   sticky directory (like /tmp), and the file's own directory when `credentials_dir_shared: true`
 *   says it is shared on purpose (a Kubernetes emptyDir is 0777);
 * - every entry (directory, symbolic link, file) is owned by a trusted user, so in a sticky or shared
 *   directory an entry another user planted is refused; a symbolic link is followed only then (what
 *   the kernel's protected_symlinks does in sticky directories, applied everywhere);
 * - once the walk passes an entry owned by the named owner (a user other than root and the agent's),
 *   every later entry must be that user's too: that user cannot point root's writes elsewhere;
 * - in a shared directory the file must not be a symbolic link (anyone could swap it meanwhile);
 * - the target is a regular file (or absent) owned by the named owner, else the agent's user.
 *
 * Why a path walk is enough without openat(): after it, every component is controlled by trusted
 * users only (others cannot rename entries of a directory they cannot write, nor, in a sticky one,
 * entries they do not own), so the checked path cannot be changed under the agent by anyone else.
 * In a shared directory that does not hold, so the files there are opened with O_NOFOLLOW and
 * checked again on the open descriptor (`openTrusted`), and created with O_EXCL.
 *
 * The walk never creates a directory except the file's own (e.g. ~/.aws, 0700), and only when its
 * parent passed the walk. A refusal names the path, the offending owner or mode, and the fix.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { AgentError } from '../errors.js';
import { errnoCode, nodeFs, O, type FileStat, type Fs, type FsFile } from './fs.js';

export interface TrustPolicy {
  /** The agent's effective user id (default: process.geteuid()). */
  uid?: number;
  /** `credentials_file_owner:` — the user whose file root writes, by name or uid. */
  owner?: string | number;
  /** `credentials_dir_shared:` — the file's own directory may be writable by others, on purpose. */
  sharedDir?: boolean;
}

/** A TrustPolicy with the owner resolved to a uid. */
export interface Trust {
  readonly uid: number;
  /** Who must own the credentials file: the named owner, else the agent's user. */
  readonly fileOwner: number;
  readonly trusted: ReadonlySet<number>;
  readonly sharedDir: boolean;
  /** How the owner was named, for messages. */
  readonly ownerName?: string;
}

export type UserLookup = (name: string) => Promise<number | undefined>;

const MAX_LINKS = 40;
const USER_NAME = /^[a-z_][a-z0-9_.-]*\$?$/i;

function currentUid(): number {
  return typeof process.geteuid === 'function' ? process.geteuid() : 0;
}

/** /etc/passwd first (no child process), then `id -u NAME`, which also asks NSS (LDAP, sssd). */
export const lookupUser: UserLookup = async (name) => {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
    }
  } catch {
    // no /etc/passwd (a minimal container): ask id
  }
  return new Promise((done) => {
    execFile('id', ['-u', '--', name], { timeout: 5_000 }, (err, stdout) => {
      const uid = err ? undefined : stdout.trim();
      done(uid && /^\d+$/.test(uid) ? Number(uid) : undefined);
    });
  });
};

/**
 * Whether `gid` is the private group of user `uid` (the user's primary group, with no other user in
 * it as primary or listed member): what Debian and Ubuntu give every user, with umask 002, so their
 * directories are 0775 and still writable by nobody else. Debian's OpenSSH allows the same in its
 * StrictModes checks. Unreadable account databases mean "not private".
 */
export function isPrivateGroup(gid: number, uid: number, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): boolean {
  let passwd: string[][];
  let group: string[] | undefined;
  try {
    passwd = read('/etc/passwd').split('\n').map((l) => l.split(':'));
    group = read('/etc/group').split('\n').map((l) => l.split(':')).find((f) => f[2] === String(gid));
  } catch {
    return false;
  }
  const owner = passwd.find((f) => f[2] === String(uid));
  if (!owner || owner[3] !== String(gid) || !group) return false;
  const others = passwd.filter((f) => f[3] === String(gid) && f[2] !== String(uid));
  const members = (group[3] ?? '').split(',').filter((m) => m !== '' && m !== owner[0]);
  return others.length === 0 && members.length === 0;
}

/** The rule for an agent that writes its own files (no credentials_file_owner). */
export function defaultTrust(uid = currentUid(), sharedDir = false): Trust {
  return { uid, fileOwner: uid, trusted: new Set([0, uid]), sharedDir };
}

/** A resolved Trust as it is, or a TrustPolicy resolved. */
export async function toTrust(t: Trust | TrustPolicy | undefined, lookup?: UserLookup): Promise<Trust> {
  if (t && 'trusted' in t) return t;
  return resolveTrust(t ?? {}, lookup);
}

/** Resolves the owner's name; refuses an owner only root could write for. */
export async function resolveTrust(policy: TrustPolicy = {}, lookup: UserLookup = lookupUser): Promise<Trust> {
  const uid = policy.uid ?? currentUid();
  let owner: number | undefined;
  let ownerName: string | undefined;
  if (typeof policy.owner === 'number') owner = policy.owner;
  else if (typeof policy.owner === 'string') {
    ownerName = policy.owner;
    if (/^\d+$/.test(policy.owner)) owner = Number(policy.owner);
    else {
      owner = USER_NAME.test(policy.owner) ? await lookup(policy.owner) : undefined;
      if (owner === undefined) {
        throw new AgentError('CREDENTIALS_PATH_UNTRUSTED', `credentials_file_owner: no user named "${policy.owner}" on this host`, {
          hint: 'give an existing user name or a numeric uid (id -u NAME prints it)',
        });
      }
    }
  }
  if (owner !== undefined && owner !== uid && uid !== 0) {
    throw new AgentError('CREDENTIALS_PATH_UNTRUSTED', `credentials_file_owner: ${ownerName ?? owner} names another user, but the agent runs as uid ${uid}: only root can write another user's file`, {
      hint: 'remove credentials_file_owner:, or run the agent as that user',
    });
  }
  const fileOwner = owner ?? uid;
  return { uid, fileOwner, trusted: new Set([0, uid, fileOwner]), sharedDir: !!policy.sharedDir, ...(ownerName !== undefined && { ownerName }) };
}

function who(uid: number, trust: Trust): string {
  if (uid === 0) return 'root';
  if (uid === trust.fileOwner && trust.ownerName !== undefined && !/^\d+$/.test(trust.ownerName)) return `${trust.ownerName} (uid ${uid})`;
  return `uid ${uid}`;
}

function trustedNames(trust: Trust): string {
  const names = ['root'];
  if (trust.uid !== 0) names.push(`the agent's user (uid ${trust.uid})`);
  if (trust.fileOwner !== trust.uid) names.push(`credentials_file_owner ${who(trust.fileOwner, trust)}`);
  return names.join(' or ');
}

function mode(st: FileStat): string {
  return (st.mode & 0o7777).toString(8).padStart(4, '0');
}

function untrusted(what: string, message: string, hint: string): AgentError {
  return new AgentError('CREDENTIALS_PATH_UNTRUSTED', `${what}: ${message}`, { hint });
}

export interface WalkOptions {
  fs?: Fs;
  /** How the file is named in messages (default "credentials file <path>"). */
  what?: string;
  /**
   * Create the file's own directory (0700) when it is missing and its parent passed; 'check' only
   * says it would (`missingDir`), for validate.
   */
  createDir?: boolean | 'check';
  /** Follow a symbolic link at the last component (the credentials file keeps its link); else refuse one. */
  followLast?: boolean;
  /** A missing directory anywhere on the path means "no file" (readers), not an error. */
  missingOk?: boolean;
  /** Who may own the target: the credentials file's owner only (default), or any trusted user (lock, state). */
  targetOwner?: 'file' | 'trusted';
}

export type DirKind = 'closed' | 'sticky' | 'shared';

export interface Walked {
  /** The path of the file itself, after following trusted symbolic links. */
  readonly path: string;
  /** Its lstat, or undefined when it does not exist (its directory does). */
  readonly stat: FileStat | undefined;
  /** Its directory: closed to others, a root-owned sticky one (/tmp), or shared on purpose. */
  readonly dirKind: DirKind;
  /** With createDir 'check' (or missingOk): the directory found missing, that a write would create. */
  readonly missingDir?: string;
}

/**
 * Walks `path` from `/` under the rule in the header and returns the file it names (which may not
 * exist yet). Throws CREDENTIALS_PATH_UNTRUSTED naming the offending component and the fix.
 */
export async function walkTrusted(path: string, trust: Trust, options: WalkOptions = {}): Promise<Walked> {
  const fs = options.fs ?? nodeFs;
  const what = options.what ?? `credentials file ${path}`;
  const original = resolve(path);
  // Each component remembers its place in the path as given (-1: it came from a link), so the
  // file's own directory is created only where the path itself names it, never at a link's target.
  const names = original.split('/').filter((c) => c !== '' && c !== '.');
  let todo = names.map((name, i) => ({ name, at: i }));
  const ownDirAt = names.length - 2;
  let done = '/';
  let links = 0;
  /** Set once an entry of the named owner (not root, not the agent) was passed. */
  let crossed: number | undefined;
  let parent: DirKind = 'closed';

  const lstat = async (p: string): Promise<FileStat | undefined> => {
    try {
      return await fs.lstat(p);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      if (errnoCode(e) === 'ENOTDIR') throw untrusted(what, `${dirname(p)} is not a directory`, 'point credentials_file at a path whose every component is a directory');
      throw new AgentError('CREDENTIALS_FILE', `${what}: cannot look up ${p} (${errnoCode(e) ?? String(e)})`, { cause: e, hint: "let the agent's user search every directory of the path" });
    }
  };
  const checkOwner = (p: string, st: FileStat, kind: string) => {
    if (!trust.trusted.has(st.uid)) {
      throw untrusted(
        what,
        `${kind} ${p} is owned by ${who(st.uid, trust)}, who could redirect or read the agent's writes`,
        `only ${trustedNames(trust)} may own the path: chown it, or move the credentials file out of the other user's reach (set credentials_file_owner: when root writes a user's file)`,
      );
    }
    if (crossed !== undefined && st.uid !== crossed) {
      throw untrusted(
        what,
        `${kind} ${p} is owned by ${who(st.uid, trust)} but is reached through an entry of ${who(crossed, trust)}, who could point it anywhere`,
        `keep the path below ${who(crossed, trust)}'s directories inside them (no symbolic link of theirs out to other users' directories)`,
      );
    }
    if (st.uid !== 0 && st.uid !== trust.uid) crossed = st.uid;
  };
  const checkDir = (p: string, st: FileStat, leaf: boolean): DirKind => {
    checkOwner(p, st, 'directory');
    if ((st.mode & 0o022) === 0) return 'closed';
    if ((st.mode & 0o002) === 0 && isPrivateGroup(st.gid, st.uid)) return 'closed';
    if (st.uid === 0 && (st.mode & 0o1000) !== 0) return 'sticky'; // /tmp: what is below is checked for its owner
    if (leaf && trust.sharedDir) return 'shared';
    throw untrusted(
      what,
      `directory ${p} (owner ${who(st.uid, trust)}, mode ${mode(st)}) is writable by ${(st.mode & 0o002) !== 0 ? 'every user' : 'its group'}, who could replace the file or plant a symbolic link`,
      leaf
        ? `chmod go-w ${p}; if the directory is shared on purpose (a Kubernetes emptyDir), set credentials_dir_shared: true`
        : `chmod go-w ${p}, or put the credentials file in a directory only its owner can write`,
    );
  };

  const rootStat = await lstat('/');
  if (rootStat) checkDir('/', rootStat, false);
  while (todo.length > 0) {
    const c = todo.shift()!;
    const last = todo.length === 0;
    if (c.name === '..') {
      done = dirname(done);
      const st = await lstat(done);
      if (st) checkOwner(done, st, 'directory');
      continue;
    }
    const next = join(done, c.name);
    let st = await lstat(next);
    const creatable = !st && c.at === ownDirAt && todo.length === 1 && todo[0]!.at === ownDirAt + 1;
    if (creatable && options.createDir === 'check') return { path: join(next, todo[0]!.name), stat: undefined, dirKind: 'closed', missingDir: next };
    if (creatable && options.createDir) {
      try {
        // 0700 like the AWS CLI's ~/.aws; chmod again because the umask applies to mkdir.
        await fs.mkdir(next, { recursive: false, mode: 0o700 });
        await fs.chmod(next, 0o700);
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST') {
          throw new AgentError('CREDENTIALS_FILE', `${what}: creating the directory ${next} failed (${describeCode(e)})`, {
            cause: e,
            hint: errnoCode(e) === 'EROFS' ? 'the file system is mounted read-only: point credentials_file at a writable place' : `let the agent's user write ${done}, or create ${next} (mode 0700) yourself`,
          });
        }
      }
      st = await lstat(next);
    }
    if (!st) {
      if (last) return { path: next, stat: undefined, dirKind: parent };
      if (options.missingOk) return { path: join(next, ...todo.map((t) => t.name)), stat: undefined, dirKind: 'closed', missingDir: next };
      throw untrusted(
        what,
        `directory ${next} does not exist`,
        `create it (owned by ${trustedNames(trust)}, not writable by group or others): the agent creates only the credentials file's own directory, and only when its parent exists`,
      );
    }
    if (st.isSymbolicLink()) {
      checkOwner(next, st, 'symbolic link');
      if (last && !options.followLast) throw untrusted(what, `${next} is a symbolic link`, `remove ${next}: the agent writes this file itself`);
      if (parent === 'shared') throw untrusted(what, `${next} is a symbolic link in the shared directory ${done}, where any user could swap it`, 'point credentials_file at the file itself, not at a link');
      if (++links > MAX_LINKS) throw untrusted(what, `more than ${MAX_LINKS} symbolic links`, 'point credentials_file at the real file');
      let target: string;
      try {
        target = await fs.readlink(next);
      } catch (e) {
        throw new AgentError('CREDENTIALS_FILE', `${what}: cannot read the symbolic link ${next} (${describeCode(e)})`, { cause: e, hint: 'point credentials_file at the real file' });
      }
      todo = [...target.split('/').filter((x) => x !== '' && x !== '.').map((name) => ({ name, at: -1 })), ...todo];
      if (target.startsWith('/')) {
        done = '/';
        if (rootStat && crossed !== undefined) checkOwner('/', rootStat, 'directory');
      }
      continue;
    }
    if (last) {
      if (st.isDirectory()) throw new AgentError('CREDENTIALS_FILE', `${what} is a directory, not a file`, { hint: 'remove the directory or point credentials_file at a file' });
      if (!st.isFile()) throw new AgentError('CREDENTIALS_FILE', `${what} is not a regular file`, { hint: `remove ${next} or point credentials_file at a regular file; the agent left it as it was` });
      checkOwner(next, st, 'file');
      checkTargetOwner(next, st, trust, what, options.targetOwner ?? 'file');
      return { path: next, stat: st, dirKind: parent };
    }
    if (!st.isDirectory()) throw untrusted(what, `${next} is not a directory`, 'point credentials_file at a path whose every component is a directory');
    parent = checkDir(next, st, todo.length === 1);
    done = next;
  }
  // The path named a directory ("/" or ending in ".."): not a file.
  throw new AgentError('CREDENTIALS_FILE', `${what} is a directory, not a file`, { hint: 'point credentials_file at a file' });
}

function describeCode(e: unknown): string {
  const code = errnoCode(e);
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'no space left on the device';
  return code ?? (e instanceof Error ? e.message : String(e));
}

function checkTargetOwner(p: string, st: FileStat, trust: Trust, what: string, targetOwner: 'file' | 'trusted'): void {
  const ok = targetOwner === 'file' ? st.uid === trust.fileOwner : trust.trusted.has(st.uid);
  if (ok) return;
  const expected = targetOwner === 'file' ? who(trust.fileOwner, trust) : trustedNames(trust);
  throw untrusted(
    what,
    `${p} is owned by ${who(st.uid, trust)}, not by ${expected}`,
    targetOwner === 'file'
      ? trust.fileOwner === trust.uid && trust.uid === 0
        ? `if root writes another user's file on purpose, name that user with credentials_file_owner:; else remove ${p} (another user may have planted it)`
        : `chown ${trust.fileOwner} ${p} if it is the right file; else remove it (another user may have planted it)`
      : `remove ${p}: another user may have planted it`,
  );
}

/** The file's directory and name, for siblings (lock, temps) of a walked file. */
export function siblingOf(walked: Walked, suffix: string): string {
  return join(dirname(walked.path), `${basename(walked.path)}${suffix}`);
}

export interface OpenedTrusted {
  readonly file: FsFile;
  readonly stat: FileStat;
}

/**
 * Opens a file of the agent for reading without following a link and without blocking (a FIFO
 * planted there must not hang the agent), then checks on the open descriptor what the walk checked
 * on the path: a regular file, owned as required. Undefined when it does not exist.
 */
export async function openTrusted(path: string, trust: Trust, options: { fs?: Fs; what?: string; targetOwner?: 'file' | 'trusted' } = {}): Promise<OpenedTrusted | undefined> {
  const fs = options.fs ?? nodeFs;
  const what = options.what ?? `credentials file ${path}`;
  // lstat first: a device node or a FIFO is refused before it is opened (opening one can block or
  // have side effects); O_NOFOLLOW|O_NONBLOCK close the race with a swap after this look.
  let seen: FileStat;
  try {
    seen = await fs.lstat(path);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
  if (seen.isSymbolicLink()) throw untrusted(what, `${path} is a symbolic link`, `remove ${path}: another user may have planted it`);
  if (seen.isDirectory()) throw new AgentError('CREDENTIALS_FILE', `${what} is a directory, not a file`, { hint: 'remove the directory or point credentials_file at a file' });
  if (!seen.isFile()) throw new AgentError('CREDENTIALS_FILE', `${what} is not a regular file`, { hint: `remove ${path} or point credentials_file at a regular file; the agent left it as it was` });
  let fh: FsFile;
  try {
    fh = await fs.open(path, O.O_RDONLY | O.O_NOFOLLOW | O.O_NONBLOCK);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || code === 'EMLINK') throw untrusted(what, `${path} became a symbolic link`, `remove ${path}: another user may have planted it`);
    throw e;
  }
  try {
    const stat = await fh.stat();
    if (stat.isDirectory()) throw new AgentError('CREDENTIALS_FILE', `${what} is a directory, not a file`, { hint: 'remove the directory or point credentials_file at a file' });
    if (!stat.isFile()) throw new AgentError('CREDENTIALS_FILE', `${what} is not a regular file`, { hint: `remove ${path} or point credentials_file at a regular file; the agent left it as it was` });
    checkTargetOwner(path, stat, trust, what, options.targetOwner ?? 'file');
    return { file: fh, stat };
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
}

/**
 * Reads a small file of the agent (a lock, the state file) opened by `openTrusted`: at most `limit`
 * bytes, so a file grown huge cannot fill the memory. Undefined when it is larger.
 */
export async function readAtMost(file: FsFile, stat: FileStat, limit: number): Promise<Buffer | undefined> {
  if (stat.size > limit) return undefined;
  // Sized by the file, grown only if it grows while read: a buffer of `limit` (32 MiB for the
  // state file) at every read was most of a one-profile agent's external memory.
  let buf = Buffer.alloc(Math.min(limit, stat.size) + 1);
  let n = 0;
  for (;;) {
    if (n === buf.length) {
      if (n > limit) break;
      const bigger = Buffer.alloc(Math.min(limit + 1, buf.length * 2));
      buf.copy(bigger, 0, 0, n);
      buf = bigger;
    }
    const { bytesRead } = await file.read(buf, n, buf.length - n, n);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  return n > limit ? undefined : buf.subarray(0, n);
}
