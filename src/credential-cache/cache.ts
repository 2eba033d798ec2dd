/**
 * The shared cache of `credential-process --cache`: one small JSON file per set of inputs in a
 * private directory, so parallel and repeated AWS CLI calls share one CreateSession.
 *
 * What it guarantees, and why:
 * - The entry's name is a SHA-256 over every input that changes the identity or the request (ARNs,
 *   region, endpoint and its environment, session name and duration, the certificate's bytes, the key
 *   source, the intermediates' bytes, the trust settings). A replaced certificate therefore names
 *   another entry. Secrets never enter the digest (no password or PIN; a pkcs11: URI loses its
 *   pin-value first), so neither the file name nor the entry can be used to guess one.
 * - An entry is trusted only when it is a regular file of ours with mode 0600 (a foreign, linked or
 *   readable-by-others file is ignored and later replaced), parses, names the same digest, and
 *   expires more than `minRemainingMs` from now: an expired entry is never served.
 * - Entries are written to a temporary file created exclusively with mode 0600, fsynced and renamed
 *   into place, so a reader sees the old entry or the new one, never half of one.
 * - The directory must be ours: another user's directory is refused; ours with group or other
 *   permissions is set to 0700 (and the caller is told), since entries hold live credentials.
 *
 * This module loads only node's fs, path, os and crypto: a cache hit must not pay for the signer,
 * the key parsers or TLS (see cli/credential-process.ts).
 */
import { isNonFileSource } from '../keys/sources/index.js';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Credentials } from '../credentials.js';
import { AgentError } from '../errors.js';
import { parseArn } from '../rolesanywhere/arn.js';

/** Refresh when less than this remains (the AWS CLI itself refreshes at 10 to 15 minutes; 5 is the helper's margin). */
export const DEFAULT_MIN_REMAINING_SECONDS = 300;
/** An entry is a few hundred bytes; anything much larger is not ours. */
const MAX_ENTRY_BYTES = 64 * 1024;
const ENTRY_VERSION = 1;

/** `$XDG_CACHE_HOME/rolesanywhere-agent`, else `~/.cache/rolesanywhere-agent`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  const xdg = env['XDG_CACHE_HOME'];
  // The XDG spec says a relative value is invalid and must be ignored.
  const base = xdg && xdg.startsWith('/') ? xdg : join(env['HOME'] || homedir(), '.cache');
  return join(base, 'rolesanywhere-agent');
}

export interface CacheDirResult {
  dir: string;
  /** Set when the directory's permissions were tightened: say so once. */
  fixedMode?: number;
}

/**
 * Creates the directory (0700) or checks the existing one. Throws CACHE_UNSAFE for a directory that
 * is not ours or not a directory; tightens our own to 0700.
 */
export function openCacheDir(dir: string): CacheDirResult {
  const abs = resolve(dir);
  try {
    mkdirSync(abs, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new AgentError('CACHE_UNSAFE', `cannot create the credential cache directory ${abs}: ${(e as Error).message}`, {
      cause: e,
      hint: 'give --cache a directory you may write, or leave the value out to use ~/.cache/rolesanywhere-agent',
    });
  }
  const st = statSync(abs);
  if (!st.isDirectory()) {
    throw new AgentError('CACHE_UNSAFE', `the credential cache ${abs} is not a directory`, { hint: 'give --cache a directory' });
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new AgentError('CACHE_UNSAFE', `the credential cache directory ${abs} belongs to uid ${st.uid}, not to this user (uid ${uid}): refusing to keep credentials there`, {
      hint: 'give --cache a directory of your own, or leave the value out to use ~/.cache/rolesanywhere-agent',
    });
  }
  const mode = st.mode & 0o777;
  if ((mode & 0o077) === 0) return { dir: abs };
  chmodSync(abs, 0o700);
  return { dir: abs, fixedMode: mode };
}

/** What names an entry. Paths are made absolute; file contents are hashed by `cacheDigest`. */
export interface CacheKeyInputs {
  trustAnchorArn: string;
  profileArn: string;
  roleArn: string;
  durationSeconds: number;
  roleSessionName?: string | undefined;
  region?: string | undefined;
  endpoint?: string | undefined;
  fips?: boolean | undefined;
  /** A file path (pkcs11: certificates cannot be fingerprinted without opening the token). */
  certificate: string;
  /** A file path or a pkcs11: URI. */
  privateKey?: string | undefined;
  intermediates?: string | undefined;
  pkcs11Lib?: string | undefined;
  caBundle?: string | undefined;
  noVerifySsl?: boolean | undefined;
  env: NodeJS.ProcessEnv;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function fileFingerprint(path: string): string {
  // The bytes, not the stat: a rewrite with the same size and mtime must still change the name.
  return sha256(readFileSync(path));
}

/** Drops a PIN from a pkcs11: URI, wherever it was typed; what is left names the key, not a secret. */
function keyWithoutPin(uri: string): string {
  const q = uri.indexOf('?');
  const path = (q < 0 ? uri : uri.slice(0, q)).replace(/(^|;|:)pin-value=[^;]*/gi, '$1');
  const query = q < 0 ? [] : uri.slice(q + 1).split('&').filter((p) => /^(pin-source|module-name|module-path)=/.test(p));
  return [path, ...query].join('?');
}

/**
 * The entry's digest (hex). Reads the certificate and intermediates (their bytes are hashed) and
 * stats a key file (its identity and size, never its bytes); throws if a file cannot be read, which
 * the caller treats as "no cache" so the full call reports the problem in its usual words.
 */
export function cacheDigest(k: CacheKeyInputs): string {
  const isUri = isNonFileSource;
  let keySource: unknown = null;
  if (k.privateKey !== undefined) {
    if (isUri(k.privateKey)) keySource = { uri: keyWithoutPin(k.privateKey) };
    else {
      const path = resolve(k.privateKey);
      const st = statSync(path);
      keySource = { path, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
    }
  }
  const certificate = resolve(k.certificate);
  const parts = {
    v: ENTRY_VERSION,
    trustAnchorArn: k.trustAnchorArn,
    profileArn: k.profileArn,
    roleArn: k.roleArn,
    durationSeconds: k.durationSeconds,
    roleSessionName: k.roleSessionName ?? null,
    // No region and the trust anchor's own region are the same request (the flags now resolve to the latter).
    region: k.region !== undefined && k.region !== parseArn(k.trustAnchorArn)?.region ? k.region : null,
    endpoint: k.endpoint ?? null,
    fips: !!k.fips,
    endpointEnv: [k.env['AWS_ENDPOINT_URL_ROLESANYWHERE'] ?? null, k.env['AWS_ENDPOINT_URL'] ?? null],
    certificate: { path: certificate, sha256: fileFingerprint(certificate) },
    keySource,
    intermediates: k.intermediates === undefined ? null : { path: resolve(k.intermediates), sha256: fileFingerprint(resolve(k.intermediates)) },
    pkcs11Lib: k.pkcs11Lib ?? null,
    caBundle: k.caBundle === undefined ? null : resolve(k.caBundle),
    noVerifySsl: !!k.noVerifySsl,
  };
  return sha256(JSON.stringify(parts));
}

export function entryPath(dir: string, digest: string): string {
  return join(dir, `${digest}.json`);
}

interface EntryFile {
  version: number;
  digest: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: string };
}

export type ReadResult =
  | { kind: 'hit'; credentials: Credentials }
  | { kind: 'miss'; reason: 'absent' | 'untrusted' | 'corrupt' | 'expiring' };

/** Reads an entry; anything short of a valid, fresh entry of ours is a miss, never an error. */
export function readEntry(dir: string, digest: string, nowMs: number, minRemainingMs: number): ReadResult {
  const path = entryPath(dir, digest);
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink planted at the entry's name is not followed (ELOOP is a miss).
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    return { kind: 'miss', reason: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'untrusted' };
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    const uid = process.getuid?.();
    if (!st.isFile() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0 || st.size > MAX_ENTRY_BYTES) {
      return { kind: 'miss', reason: 'untrusted' };
    }
    text = readFileSync(fd, 'utf8');
  } catch {
    return { kind: 'miss', reason: 'untrusted' };
  } finally {
    closeSync(fd);
  }
  const credentials = parseEntry(text, digest);
  if (!credentials) return { kind: 'miss', reason: 'corrupt' };
  if (credentials.expiration.getTime() - nowMs <= minRemainingMs) return { kind: 'miss', reason: 'expiring' };
  return { kind: 'hit', credentials };
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function parseEntry(text: string, digest: string): Credentials | undefined {
  let e: Partial<EntryFile>;
  try {
    e = JSON.parse(text) as Partial<EntryFile>;
  } catch {
    return undefined;
  }
  if (typeof e !== 'object' || e === null || e.version !== ENTRY_VERSION || e.digest !== digest) return undefined;
  const c = e.credentials;
  if (typeof c !== 'object' || c === null) return undefined;
  if (!nonEmpty(c.accessKeyId) || !nonEmpty(c.secretAccessKey) || !nonEmpty(c.sessionToken) || !nonEmpty(c.expiration)) return undefined;
  const expiration = new Date(c.expiration);
  if (Number.isNaN(expiration.getTime())) return undefined;
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration };
}

/** Atomically replaces the entry (temp file 0600, fsync, rename); whatever was there is replaced. */
export function writeEntry(dir: string, digest: string, credentials: Credentials): void {
  const body: EntryFile = {
    version: ENTRY_VERSION,
    digest,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      expiration: credentials.expiration.toISOString(),
    },
  };
  const target = entryPath(dir, digest);
  const temp = join(dir, `.${digest}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let closed = false;
  let renamed = false;
  try {
    writeSync(fd, `${JSON.stringify(body)}\n`);
    fsyncSync(fd);
    closeSync(fd);
    closed = true;
    renameSync(temp, target);
    renamed = true;
  } finally {
    if (!closed) closeSync(fd);
    if (!renamed) {
      try {
        unlinkSync(temp);
      } catch {
        // gone already
      }
    }
  }
  // The rename is durable only once the directory is synced.
  try {
    const dfd = openSync(dir, constants.O_RDONLY);
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // some file systems refuse fsync on a directory; the entry is a cache, not the only copy
  }
}

export function lockPath(dir: string, digest: string): string {
  return join(dir, `${digest}.lock`);
}
