/** Turns a validated schedule into the agent's own configuration; each profile through the one builder (config/profile/agent-profile.ts). */
import type { Schedule } from '../config/index.js';
import type { TrustPolicy } from '../credentials-file/trust.js';
import { agentProfile } from '../config/profile/agent-profile.js';
import type { AgentConfig } from './agent.js';

export function agentConfig(s: Schedule): AgentConfig {
  return { credentialsFile: s.credentialsFile, credentialsTrust: trustPolicy(s), profiles: s.profiles.map(agentProfile), rateLimit: s.rateLimit };
}

/** The schedule's settings of the path-trust rule (credentials-file/trust.ts). */
export function trustPolicy(s: Pick<Schedule, 'credentialsFileOwner' | 'credentialsDirShared'>): TrustPolicy {
  return { ...(s.credentialsFileOwner !== undefined && { owner: s.credentialsFileOwner }), sharedDir: s.credentialsDirShared };
}
