/** Turns a validated schedule into the agent's own configuration (one place knows both shapes). */
import { createHash } from 'node:crypto';
import type { ResolvedProfile, Schedule } from '../config/index.js';
import type { TrustPolicy } from '../credentials-file/trust.js';
import type { TransportOptions } from '../rolesanywhere/transport.js';
import type { AgentConfig, AgentProfile } from './agent.js';
import type { SessionSpec } from './job.js';

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
  const key = p.keyMaterial;
  const specHash = createHash('sha256')
    .update(JSON.stringify({ session, transport, key, refresh: p.refresh }))
    .digest('hex')
    .slice(0, 16);
  // watch_interval stays out of specHash: changing it must not restart the profile or discard its credentials.
  return { name: p.name, session, refresh: p.refresh, key, transport, specHash, watchIntervalMs: p.watchIntervalSeconds * 1000 };
}

export function agentConfig(s: Schedule): AgentConfig {
  return { credentialsFile: s.credentialsFile, credentialsTrust: trustPolicy(s), profiles: s.profiles.map(agentProfile), rateLimit: s.rateLimit };
}

/** The schedule's settings of the path-trust rule (credentials-file/trust.ts). */
export function trustPolicy(s: Pick<Schedule, 'credentialsFileOwner' | 'credentialsDirShared'>): TrustPolicy {
  return { ...(s.credentialsFileOwner !== undefined && { owner: s.credentialsFileOwner }), sharedDir: s.credentialsDirShared };
}
