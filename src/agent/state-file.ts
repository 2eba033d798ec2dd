/**
 * The agent's state files, beside the credentials file (mode 0600): what each profile's job knows —
 * state, expiry, next refresh, last error — plus the schedule identity (spec hash) the credentials
 * were made for and a hash of their access key id. One owner per file: `run` writes
 * `<credentials>.agent-state.json`, `once` writes `<credentials>.once-state.json`, so a `once` next
 * to a running agent never hides it. `status` reads both (latestState): the live agent's when one
 * runs, else the newer. A restarted agent and `once` use them to keep credentials that are still
 * good instead of calling CreateSession again. They never hold a secret.
 *
 * It is read and written under the credentials file's path-trust rule (credentials-file/trust.ts):
 * a state file another user owns, a symbolic link or a FIFO there is ignored when reading (`status`
 * would otherwise follow the `http.url` someone else wrote) and refused when writing; it is read
 * without blocking and only up to a size cap. A temp file a killed writer left is removed by the next
 * write once it is older than any write takes.
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { accessKeyHash, type Credentials } from '../credentials.js';
import { readCredentialsText, readProfiles } from '../credentials-file/index.js';
import { errnoCode, nodeFs, O, type Fs } from '../credentials-file/fs.js';
import { openTrusted, readAtMost, toTrust, walkTrusted, type Trust, type TrustPolicy } from '../credentials-file/trust.js';
import { AgentError } from '../errors.js';
import { systemClock, type Clock } from '../time/clock.js';
import { identityChange, type AgentConfig, type ProfileStatus } from './agent.js';

export interface StateFile {
  version: 1;
  pid: number;
  command: 'run' | 'once';
  schedule?: string;
  updatedAt: string;
  /** Atomic replaces of the credentials file by this process so far. */
  replaces?: number;
  profiles: ProfileStatus[];
  /** Where the running agent's observability listener actually listens (port 0 resolved). */
  http?: { url: string } | { socket: string };
  /** The running agent's credential endpoints (serve:), for `status`. */
  serve?: Array<{ endpoint: 'ecs' | 'imds'; address: string; tokenDir?: string; profile?: string }>;
}

export type StateRole = StateFile['command'];

export function statePathFor(credentialsFile: string, role: StateRole = 'run'): string {
  return role === 'run' ? `${credentialsFile}.agent-state.json` : `${credentialsFile}.once-state.json`;
}

/** Far more than 5,000 profiles take; a larger file is not ours. */
export const MAX_STATE_BYTES = 32 * 1024 * 1024;
/** A state temp file older than this is a killed writer's (a write takes milliseconds). */
export const STALE_TEMP_MS = 60_000;

export interface StateFileOptions {
  trust?: Trust | TrustPolicy;
  fs?: Fs;
  /** Why an existing state file was ignored (another user's, not a regular file, too large). */
  onIgnored?: (why: string) => void;
  clock?: Clock;
}

/**
 * The state `status` shows: the running agent's when its process is alive, else the newer of the
 * two files (`live` false). `alive` is injected for tests.
 */
export async function latestState(
  credentialsFile: string,
  alive: (pid: number) => boolean,
  options: StateFileOptions = {},
): Promise<{ state: StateFile; live: boolean } | undefined> {
  const run = await readState(credentialsFile, 'run', options);
  if (run && run.command === 'run' && alive(run.pid)) return { state: run, live: true };
  const once = await readState(credentialsFile, 'once', options);
  const newer = run && once ? (Date.parse(once.updatedAt) > Date.parse(run.updatedAt) ? once : run) : (run ?? once);
  return newer && { state: newer, live: false };
}

export async function readState(credentialsFile: string, role: StateRole = 'run', options: StateFileOptions = {}): Promise<StateFile | undefined> {
  const fs = options.fs ?? nodeFs;
  const path = statePathFor(credentialsFile, role);
  const what = `state file ${path}`;
  let opened;
  try {
    const trust = await toTrust(options.trust);
    const walked = await walkTrusted(path, trust, { fs, what, targetOwner: 'trusted', missingOk: true });
    if (!walked.stat) return undefined;
    opened = await openTrusted(walked.path, trust, { fs, what, targetOwner: 'trusted' });
  } catch (e) {
    options.onIgnored?.(e instanceof AgentError ? e.describe() : `${what}: ${errnoCode(e) ?? String(e)}`);
    return undefined;
  }
  if (!opened) return undefined;
  try {
    const bytes = await readAtMost(opened.file, opened.stat, MAX_STATE_BYTES);
    if (!bytes) {
      options.onIgnored?.(`${what} is larger than ${MAX_STATE_BYTES / (1024 * 1024)} MiB: not a state file of the agent`);
      return undefined;
    }
    const parsed = JSON.parse(bytes.toString('utf8')) as StateFile;
    return parsed && parsed.version === 1 && Array.isArray(parsed.profiles) ? parsed : undefined;
  } catch {
    return undefined;
  } finally {
    await opened.file.close().catch(() => undefined);
  }
}

const TEMP_SUFFIX = /^[0-9a-f]{12}\.tmp$/;
/** What versions before 0.2 named their temp files. */
const LEGACY_TEMP = /^\.[0-9a-f]{12}\.agent-state\.tmp$/;

/** Removes state temp files that killed writers left (old enough that no live writer owns them). */
async function removeStaleTemps(fs: Fs, dir: string, base: string, trust: Trust, now: number): Promise<void> {
  const prefix = `.${base}.`;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!((n.startsWith(prefix) && TEMP_SUFFIX.test(n.slice(prefix.length))) || LEGACY_TEMP.test(n))) continue;
    const p = join(dir, n);
    try {
      const st = await fs.lstat(p);
      if (st.isFile() && trust.trusted.has(st.uid) && now - st.mtimeMs > STALE_TEMP_MS) await fs.unlink(p);
    } catch {
      // gone meanwhile
    }
  }
}

/** Replaces the state file of `state.command` atomically (same-directory temp, fsync, rename). */
export async function writeState(credentialsFile: string, state: StateFile, options: StateFileOptions = {}): Promise<void> {
  const fs = options.fs ?? nodeFs;
  const path = statePathFor(credentialsFile, state.command);
  const trust = await toTrust(options.trust);
  // On a first start the state can be saved before the first credentials write has made the
  // directory; the walk makes it as that write would (0700, like ~/.aws), and only that one.
  const target = (await walkTrusted(path, trust, { fs, what: `state file ${path}`, createDir: true, targetOwner: 'trusted' })).path;
  const dir = dirname(target);
  const base = basename(target);
  await removeStaleTemps(fs, dir, base, trust, (options.clock ?? systemClock).now());
  const temp = join(dir, `.${base}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await fs.open(temp, O.O_CREAT | O.O_EXCL | O.O_WRONLY | O.O_NOFOLLOW, 0o600);
  try {
    // Root writing a user's file gives them the state too, so their own status can read it.
    if (trust.fileOwner !== trust.uid) await fh.chown(trust.fileOwner, (await fs.stat(dir)).gid);
    await fh.writeFile(Buffer.from(JSON.stringify(state, null, 1) + '\n'));
    await fh.sync();
    await fh.close();
    await fs.rename(temp, target);
  } catch (e) {
    await fh.close().catch(() => {});
    await fs.unlink(temp).catch(() => {});
    throw e;
  }
}

/** Both state files (run's and once's) and the credentials file's sections; undefined when either is missing or unreadable. */
async function statesAndSections(
  config: AgentConfig,
  readText: (path: string) => Promise<string>,
): Promise<{ states: StateFile[]; sections: Map<string, Map<string, string>> } | undefined> {
  const options = { trust: config.credentialsTrust };
  const states = (await Promise.all([readState(config.credentialsFile, 'run', options), readState(config.credentialsFile, 'once', options)])).filter(
    (s): s is StateFile => !!s,
  );
  if (!states.length) return undefined;
  try {
    return { states, sections: readProfiles(await readText(config.credentialsFile)) };
  } catch {
    return undefined;
  }
}

/**
 * Credentials in the file that this schedule made and that are still usable: the state file must
 * name the same spec hash and the file must hold the same access key id, so a changed role or a
 * hand edit never passes for ours.
 */
export async function adoptableCredentials(
  config: AgentConfig,
  readText: (path: string) => Promise<string> = (p) => readCredentialsText(p, { trust: config.credentialsTrust }),
): Promise<Map<string, { credentials: Credentials; issuedAt: number }>> {
  const out = new Map<string, { credentials: Credentials; issuedAt: number }>();
  // Either process may have written the credentials in the file last; the access key hash below
  // tells which state describes them.
  const read = await statesAndSections(config, readText);
  if (!read) return out;
  const { states, sections } = read;
  for (const p of config.profiles) {
    const keys = sections.get(p.name);
    if (!keys) continue;
    const id = keys.get('aws_access_key_id');
    const secret = keys.get('aws_secret_access_key');
    const token = keys.get('aws_session_token');
    const expires = Date.parse(keys.get('x_security_token_expires') ?? '');
    if (!id || !secret || !token || Number.isNaN(expires)) continue;
    const s = states.map((st) => st.profiles.find((x) => x.name === p.name)).find((x) => x && x.specHash === p.specHash && x.issuedAt && x.accessKeyHash === accessKeyHash(id));
    if (!s?.issuedAt) continue;
    out.set(p.name, {
      credentials: { accessKeyId: id, secretAccessKey: secret, sessionToken: token, expiration: new Date(expires) },
      issuedAt: Date.parse(s.issuedAt),
    });
  }
  return out;
}

/**
 * Profiles whose keys in the file an earlier run or once made for another identity (role, profile
 * or trust anchor) than the schedule now names — the state must describe the very keys in the
 * file (access key hash), so a hand edit is never taken for ours — with the reason, for
 * Job.revokeOnFailure.
 */
export async function changedIdentities(
  config: AgentConfig,
  readText: (path: string) => Promise<string> = (p) => readCredentialsText(p, { trust: config.credentialsTrust }),
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const read = await statesAndSections(config, readText);
  if (!read) return out;
  const { states, sections } = read;
  for (const p of config.profiles) {
    const id = sections.get(p.name)?.get('aws_access_key_id');
    if (!id) continue;
    const s = states.map((st) => st.profiles.find((x) => x.name === p.name)).find((x) => x?.identity && x.accessKeyHash === accessKeyHash(id));
    const why = s?.identity && identityChange(s.identity, p.session);
    if (why) out.set(p.name, `${why} while the agent was stopped`);
  }
  return out;
}
