/**
 * What a `credential-process` call does once its flags are parsed: resolve them into a profile with
 * the settings catalogue, then answer from `--cache` or call the service. A module of its own so
 * that `--help` loads none of it, and a cache hit loads it in one step; the signer, key parsers and
 * TLS (session-call.ts) and the cache's lock load only when the service must be called.
 */
import type { Credentials } from '../credentials.js';
import { AgentError } from '../errors.js';
import { parseDuration } from '../time/duration.js';
import { sessionSettings, type SessionSettings } from '../config/profile/flags.js';
import { isPkcs11Uri } from '../keys/pkcs11/uri.js';
import { DEFAULT_MIN_REMAINING_SECONDS, cacheDigest, defaultCacheDir, lockPath, openCacheDir, readEntry, writeEntry } from '../credential-cache/cache.js';
import type { CommandIO } from './io.js';
import type { SessionFlagValues } from '../config/profile/flag-table.js';

/** How long parallel calls wait for the one making the call before making their own. */
const CACHE_LOCK_WAIT_MS = 60_000;

/** The credentials for parsed flags; throws AgentError (the command turns it into a line and an exit code). */
export async function credentialsFor(values: SessionFlagValues & { cache?: string; 'cache-min-remaining'?: string }, io: CommandIO, err: (line: string) => void): Promise<Credentials> {
  const s = sessionSettings(values, io.env);
  for (const w of s.warnings) err(`warning: ${w}`);
  return values.cache === undefined ? call(s, io) : cachedCall(s, values.cache, values['cache-min-remaining'], io, err);
}

async function call(s: SessionSettings, io: CommandIO): Promise<Credentials> {
  return (await import('./session-call.js')).callCreateSession(s, io);
}

function minRemaining(text: string | undefined, fallback: number, s: SessionSettings): number {
  const seconds = text === undefined ? fallback : parseDuration(text);
  if (seconds === undefined) {
    throw new AgentError('ARGUMENT_INVALID', `--cache-min-remaining "${text}" is not a duration`, { hint: 'use seconds or h/m/s units, e.g. --cache-min-remaining 15m' });
  }
  if (seconds >= s.session.durationSeconds) {
    throw new AgentError('ARGUMENT_INVALID', `--cache-min-remaining ${seconds}s is not shorter than the session (${s.session.durationSeconds}s): no cached entry could ever be used`, {
      hint: 'lower --cache-min-remaining or raise --session-duration',
    });
  }
  return seconds;
}

/** The cache: a hit answers from the entry; a miss takes the entry's lock and calls once for everyone waiting. */
async function cachedCall(s: SessionSettings, dirOption: string, minRemainingText: string | undefined, io: CommandIO, err: (line: string) => void): Promise<Credentials> {
  if (isPkcs11Uri(s.key.certificate)) {
    throw new AgentError('ARGUMENT_INVALID', '--cache needs the certificate in a file: a certificate on a PKCS#11 token cannot be fingerprinted without opening the token, and a replaced one must never be answered from the cache', {
      hint: 'export the certificate to a PEM file for --certificate (the key may stay on the token), or leave --cache out',
    });
  }
  const minRemainingSeconds = minRemaining(minRemainingText, DEFAULT_MIN_REMAINING_SECONDS, s);
  const { dir, fixedMode } = openCacheDir(dirOption || defaultCacheDir(io.env));
  if (fixedMode !== undefined) err(`warning: the credential cache directory ${dir} was mode ${fixedMode.toString(8).padStart(4, '0')}; set it to 0700`);
  let digest: string;
  try {
    digest = cacheDigest({ ...s.key, ...s.session, ...s.transport, env: io.env });
  } catch {
    // An unreadable certificate or key: the full call reports it in its usual words.
    return call(s, io);
  }
  const minMs = minRemainingSeconds * 1000;
  const first = readEntry(dir, digest, io.clock.now(), minMs);
  if (first.kind === 'hit') return first.credentials;

  // A miss: one caller makes the call while the others wait for the lock and then read its entry.
  const { acquireLock } = await import('../credentials-file/lock.js');
  let lock: { release(): Promise<void> } | undefined;
  try {
    lock = await acquireLock(lockPath(dir, digest), { timeoutMs: CACHE_LOCK_WAIT_MS, clock: io.clock });
  } catch (e) {
    // Held too long (a hung holder): answer without the cache rather than fail the AWS CLI.
    if (!(e instanceof AgentError && e.code === 'CREDENTIALS_FILE_LOCKED')) throw e;
  }
  try {
    const again = readEntry(dir, digest, io.clock.now(), minMs);
    if (again.kind === 'hit') return again.credentials;
    const credentials = await call(s, io);
    if (credentials.expiration.getTime() - io.clock.now() > minMs) {
      try {
        writeEntry(dir, digest, credentials);
      } catch (e) {
        // The credentials are good; only sharing them failed (a full disk, say).
        err(`warning: could not write the credential cache in ${dir}: ${(e as Error).message}`);
      }
    }
    return credentials;
  } finally {
    await lock?.release();
  }
}
