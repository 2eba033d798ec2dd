/**
 * `credential-process`: one CreateSession, the credentials printed as the AWS `credential_process`
 * JSON on stdout and nothing else. Failures are one actionable line on stderr and an exit code per
 * class (see io.ts EXIT). A drop-in for `aws_signing_helper credential-process`, plus `--cache`: a
 * private on-disk cache shared by parallel and repeated calls (credential-cache/cache.ts).
 *
 * The AWS CLI runs this on every command, so start-up is most of its cost: this module loads only
 * the flag table (config/profile/flag-table.ts); the settings' readers with a call or a cache lookup; the
 * cache with --cache; and the signer, key parsers and TLS (session-call.ts) only when a call to the
 * service is needed.
 */
import { formatExpiration, type Credentials } from '../credentials.js';
import { AgentError } from '../errors.js';
import { parseDuration } from '../time/duration.js';
import { describeError, exitCodeFor } from './exit-codes.js';
import { parseCommandFlags } from './flags.js';
import { EXIT, type CommandIO } from './io.js';
import { SESSION_FLAGS, SESSION_FLAGS_HELP } from '../config/profile/flag-table.js';
import type { SessionSettings } from '../config/profile/flags.js';

export const CREDENTIAL_PROCESS_HELP = `Usage: rolesanywhere-agent credential-process [flags]

Calls IAM Roles Anywhere CreateSession once and prints the credentials in the format the AWS
CLI and SDKs expect from credential_process:
  {"Version":1,"AccessKeyId":…,"SecretAccessKey":…,"SessionToken":…,"Expiration":…}

${SESSION_FLAGS_HELP}
Cache:
  --cache [DIR]                 reuse unexpired credentials from an earlier call with the same inputs,
                                and make parallel calls share one CreateSession; DIR defaults to
                                $XDG_CACHE_HOME/rolesanywhere-agent, else ~/.cache/rolesanywhere-agent
  --cache-min-remaining DUR     call again when less than this remains (default 5m; e.g. 900, 15m)

Exit codes: 0 ok, 2 bad input (flags, certificate, key, ARN, cache directory), 3 refused by the
service, 4 throttled, 5 network/TLS/service unavailable, 1 unexpected.`;

const FLAGS = {
  ...SESSION_FLAGS,
  cache: { type: 'string' },
  'cache-min-remaining': { type: 'string' },
} as const;

/** How long parallel calls wait for the one making the call before making their own. */
const CACHE_LOCK_WAIT_MS = 60_000;


export function processOutput(c: Credentials): string {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    SessionToken: c.sessionToken,
    Expiration: formatExpiration(c.expiration),
  });
}

/**
 * `--cache` takes an optional value, which parseArgs cannot express: a bare `--cache` (last, or
 * followed by another flag) becomes `--cache=` (the default directory).
 */
export function withCacheDefault(args: string[]): string[] {
  return args.map((a, i) => (a === '--cache' && (i + 1 >= args.length || (args[i + 1] ?? '').startsWith('-')) ? '--cache=' : a));
}

export async function credentialProcessCommand(args: string[], io: CommandIO): Promise<number> {
  const err = (line: string) => io.stderr.write(`rolesanywhere-agent credential-process: ${line}\n`);
  const values = parseCommandFlags('credential-process', withCacheDefault(args), FLAGS, CREDENTIAL_PROCESS_HELP, io);
  if (typeof values === 'number') return values;
  try {
    // The settings' readers and the one builder load only for a call, not for --help.
    const s = (await import('../config/profile/flags.js')).sessionSettings(values, io.env);
    for (const w of s.warnings) err(`warning: ${w}`);
    const credentials = values.cache === undefined ? await call(s, io) : await cachedCall(s, values.cache, values['cache-min-remaining'], io, err);
    io.stdout.write(processOutput(credentials) + '\n');
    return EXIT.OK;
  } catch (e) {
    err(describeError(e));
    return exitCodeFor(e);
  }
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

/** The cache module (and node:crypto with it) loads only here: `--help` and plain calls skip it. */
async function cachedCall(s: SessionSettings, dirOption: string, minRemainingText: string | undefined, io: CommandIO, err: (line: string) => void): Promise<Credentials> {
  const { isPkcs11Uri } = await import('../keys/sources/index.js');
  if (isPkcs11Uri(s.key.certificate)) {
    throw new AgentError('ARGUMENT_INVALID', '--cache needs the certificate in a file: a certificate on a PKCS#11 token cannot be fingerprinted without opening the token, and a replaced one must never be answered from the cache', {
      hint: 'export the certificate to a PEM file for --certificate (the key may stay on the token), or leave --cache out',
    });
  }
  const { DEFAULT_MIN_REMAINING_SECONDS, cacheDigest, defaultCacheDir, lockPath, openCacheDir, readEntry, writeEntry } = await import('../credential-cache/cache.js');
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
