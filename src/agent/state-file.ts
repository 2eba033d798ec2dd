/**
 * The agent's state file, beside the credentials file (`<credentials>.agent-state.json`, mode 0600):
 * what each profile's job knows — state, expiry, next refresh, last error — plus the schedule
 * identity (spec hash) the credentials were made for and a hash of their access key id. `status`
 * reads it to show live state; a restarted agent and `once` use it to keep credentials that are
 * still good instead of calling CreateSession again. It never holds a secret.
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
  /** The running agent's credential endpoints (serve:), for `status`. */
  serve?: Array<{ endpoint: 'ecs' | 'imds'; address: string; tokenDir?: string; profile?: string }>;
}

export function statePathFor(credentialsFile: string): string {
  return `${credentialsFile}.agent-state.json`;
}

export async function readState(credentialsFile: string): Promise<StateFile | undefined> {
  try {
    const parsed = JSON.parse(await readFile(statePathFor(credentialsFile), 'utf8')) as StateFile;
    return parsed && parsed.version === 1 && Array.isArray(parsed.profiles) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Replaces the state file atomically (same-directory temp, fsync, rename). */
export async function writeState(credentialsFile: string, state: StateFile): Promise<void> {
  const target = statePathFor(credentialsFile);
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
  const state = await readState(config.credentialsFile);
  if (!state) return out;
  let sections: Map<string, Map<string, string>>;
  try {
    sections = readProfiles(await readText(config.credentialsFile));
  } catch {
    return out;
  }
  const byName = new Map(state.profiles.map((p) => [p.name, p]));
  for (const p of config.profiles) {
    const s = byName.get(p.name);
    const keys = sections.get(p.name);
    if (!s || !keys || s.specHash !== p.specHash || !s.issuedAt) continue;
    const id = keys.get('aws_access_key_id');
    const secret = keys.get('aws_secret_access_key');
    const token = keys.get('aws_session_token');
    const expires = Date.parse(keys.get('x_security_token_expires') ?? '');
    if (!id || !secret || !token || Number.isNaN(expires) || accessKeyHash(id) !== s.accessKeyHash) continue;
    out.set(p.name, {
      credentials: { accessKeyId: id, secretAccessKey: secret, sessionToken: token, expiration: new Date(expires) },
      issuedAt: Date.parse(s.issuedAt),
    });
  }
  return out;
}
