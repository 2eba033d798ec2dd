/**
 * The agent's state files, beside the credentials file (mode 0600): what each profile's job knows —
 * state, expiry, next refresh, last error — plus the schedule identity (spec hash) the credentials
 * were made for and a hash of their access key id. One owner per file: `run` writes
 * `<credentials>.agent-state.json`, `once` writes `<credentials>.once-state.json`, so a `once` next
 * to a running agent never hides it. `status` reads both (latestState): the live agent's when one
 * runs, else the newer. A restarted agent and `once` use them to keep credentials that are still
 * good instead of calling CreateSession again. They never hold a secret.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { accessKeyHash, type Credentials } from '../credentials.js';
import { readProfiles } from '../credentials-file/index.js';
import type { AgentConfig, ProfileStatus } from './agent.js';

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
}

export type StateRole = StateFile['command'];

export function statePathFor(credentialsFile: string, role: StateRole = 'run'): string {
  return role === 'run' ? `${credentialsFile}.agent-state.json` : `${credentialsFile}.once-state.json`;
}

/**
 * The state `status` shows: the running agent's when its process is alive, else the newer of the
 * two files (`live` false). `alive` is injected for tests.
 */
export async function latestState(credentialsFile: string, alive: (pid: number) => boolean): Promise<{ state: StateFile; live: boolean } | undefined> {
  const run = await readState(credentialsFile, 'run');
  if (run && run.command === 'run' && alive(run.pid)) return { state: run, live: true };
  const once = await readState(credentialsFile, 'once');
  const newer = run && once ? (Date.parse(once.updatedAt) > Date.parse(run.updatedAt) ? once : run) : (run ?? once);
  return newer && { state: newer, live: false };
}

export async function readState(credentialsFile: string, role: StateRole = 'run'): Promise<StateFile | undefined> {
  try {
    const parsed = JSON.parse(await readFile(statePathFor(credentialsFile, role), 'utf8')) as StateFile;
    return parsed && parsed.version === 1 && Array.isArray(parsed.profiles) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Replaces the state file of `state.command` atomically (same-directory temp, fsync, rename). */
export async function writeState(credentialsFile: string, state: StateFile): Promise<void> {
  const target = statePathFor(credentialsFile, state.command);
  const temp = join(dirname(target), `.${randomBytes(6).toString('hex')}.agent-state.tmp`);
  // On a first start the state can be saved before the first credentials write has made the
  // directory; make it as that write would (0700, like ~/.aws).
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  const fh = await open(temp, 'wx', 0o600);
  try {
    await fh.writeFile(JSON.stringify(state, null, 1) + '\n');
    await fh.sync();
    await fh.close();
    await rename(temp, target);
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(temp, { force: true });
    throw e;
  }
}

/**
 * Credentials in the file that this schedule made and that are still usable: the state file must
 * name the same spec hash and the file must hold the same access key id, so a changed role or a
 * hand edit never passes for ours.
 */
export async function adoptableCredentials(
  config: AgentConfig,
  readText: (path: string) => Promise<string> = (p) => readFile(p, 'utf8'),
): Promise<Map<string, { credentials: Credentials; issuedAt: number }>> {
  const out = new Map<string, { credentials: Credentials; issuedAt: number }>();
  // Either process may have written the credentials in the file last; the access key hash below
  // tells which state describes them.
  const states = (await Promise.all([readState(config.credentialsFile, 'run'), readState(config.credentialsFile, 'once')])).filter((s): s is StateFile => !!s);
  if (!states.length) return out;
  let sections: Map<string, Map<string, string>>;
  try {
    sections = readProfiles(await readText(config.credentialsFile));
  } catch {
    return out;
  }
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
