/**
 * The flags `credential-process` and `update` share, compatible with the official helper
 * (`aws_signing_helper`), plus ours. They are declared in the settings catalogue and resolved by
 * src/profile/flags.ts like a schedule's profile; this module turns the result into the key-material,
 * session and transport options of one call. Secrets may come from files or the environment so they
 * never have to sit in argv.
 */
import type { AgentProfile } from '../agent/agent.js';
import type { KeyMaterialOptions } from '../keys/options.js';
import { agentProfile } from '../profile/agent-profile.js';
import { profileFromFlags, type SessionFlagValues } from '../profile/flags.js';
import type { CreateSessionOptions } from '../rolesanywhere/client.js';
import type { TransportOptions } from '../rolesanywhere/transport.js';

export { SESSION_FLAGS, SESSION_FLAGS_HELP, type SessionFlagValues } from '../profile/flags.js';

export interface SessionSettings {
  key: KeyMaterialOptions;
  session: CreateSessionOptions;
  transport: TransportOptions;
  debug: boolean;
  /** Warnings to show (e.g. a password in argv). */
  warnings: string[];
}

/** The agent's profile for `update --profile NAME`: the one builder's, with an inline password added. */
export function flagsAgentProfile(name: string, v: SessionFlagValues, env: NodeJS.ProcessEnv): { profile: AgentProfile; debug: boolean; warnings: string[] } {
  const f = profileFromFlags(name, v, env);
  const p = agentProfile(f.profile);
  // The inline password stays out of specHash (no secret in a hash that may be logged); it changes with no flag.
  const profile = f.inlinePassword === undefined ? p : { ...p, key: { ...p.key, password: { value: f.inlinePassword } } };
  return { profile, debug: f.debug, warnings: f.warnings };
}

export function sessionSettings(v: SessionFlagValues, env: NodeJS.ProcessEnv): SessionSettings {
  const { profile, debug, warnings } = flagsAgentProfile('default', v, env);
  return { key: profile.key, session: { ...profile.session, env }, transport: profile.transport, debug, warnings };
}
