/**
 * The one builder of the agent's profile: a ResolvedProfile (from a schedule, the command line or the
 * library's options, all through profile/resolve.ts) into the AgentProfile that `run`, `once`,
 * `update`, `credential-process` and `fromRolesAnywhere` use. Its specHash decides whether a reloaded
 * profile restarts, so every path computes it here, one way.
 */
import type { ResolvedProfile } from '../schedule.js';
import type { TransportOptions } from '../../rolesanywhere/transport.js';
import type { KeyMaterialOptions } from '../../keys/options.js';
import type { CreateSessionOptions } from '../../rolesanywhere/client.js';
import type { RefreshPolicy } from '../../time/refresh.js';

/** The CreateSession inputs of one profile (what a call adds — signal, retry, env — left out). */
export type SessionSpec = Omit<CreateSessionOptions, 'signal' | 'context' | 'retry' | 'env'>;

/** What one profile asks of its job (agent/job.ts). */
export interface JobSpec {
  /** The section written in the credentials file. */
  name: string;
  session: SessionSpec;
  refresh: RefreshPolicy;
  /** Identity of everything that shapes this job; equal hashes keep a job across reloads. */
  specHash: string;
}

/**
 * One profile as the agent runs it: declared here, next to its one builder, so that the settings
 * (config/) never import the agent that consumes them.
 */
export interface AgentProfile extends JobSpec {
  key: KeyMaterialOptions;
  transport: TransportOptions;
  /** `watch_interval`: check the key files this often even without events; 0 = never. Default 60 s. */
  watchIntervalMs?: number;
}

export function agentProfile(p: ResolvedProfile): AgentProfile {
  const session: SessionSpec = {
    trustAnchorArn: p.trustAnchorArn,
    profileArn: p.profileArn,
    roleArn: p.roleArn,
    durationSeconds: p.sessionDurationSeconds,
    region: p.region,
    fips: p.fips,
  };
  if (p.roleSessionName !== undefined) session.roleSessionName = p.roleSessionName;
  if (p.endpoint !== undefined) session.endpoint = p.endpoint;
  const transport: TransportOptions = {};
  if (p.caBundle) transport.caBundle = p.caBundle;
  if (p.noVerifySsl) transport.noVerifySsl = true;
  if (p.connectTimeoutSeconds !== undefined) transport.connectTimeoutMs = p.connectTimeoutSeconds * 1000;
  if (!p.withProxy) transport.direct = true;
  const key = p.keyMaterial;
  // node:crypto on first use: `credential-process --help` and a cache hit never need it (issue 17).
  const { createHash } = process.getBuiltinModule('node:crypto');
  const specHash = createHash('sha256')
    .update(JSON.stringify({ session, transport, key, refresh: p.refresh }))
    .digest('hex')
    .slice(0, 16);
  // watch_interval stays out of specHash: changing it must not restart the profile or discard its credentials.
  return { name: p.name, session, refresh: p.refresh, key, transport, specHash, watchIntervalMs: p.watchIntervalSeconds * 1000 };
}
