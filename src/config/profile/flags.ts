/**
 * The profile the command line of `credential-process` and `update` describes: each setting's flag
 * (profile/flag-table.ts) becomes its snake_case key, and the profile goes through the same readers
 * and cross-checks as a schedule's (profile/resolve.ts), the catalogue's environment variables
 * (AWS_CA_BUNDLE) included. What only the command line has: `--pkcs8-password` (an inline secret,
 * with a warning), `--debug`, and `--help`.
 */
import { homedir } from 'node:os';
import type { AgentProfile } from './agent-profile.js';
import type { KeyMaterialOptions } from '../../keys/options.js';
import type { CreateSessionOptions } from '../../rolesanywhere/client.js';
import type { TransportOptions } from '../../rolesanywhere/transport.js';
import { agentProfile } from './agent-profile.js';
import { AgentError } from '../../errors.js';
import { ARN_HINT } from '../fields.js';
import { ConfigError, type ConfigIssue } from '../issues.js';
import type { ResolvedProfile } from '../schedule.js';
import { settingProblem } from '../../keys/sources/index.js';
import { FlagFormatError, REQUIRED_KEYS, type ProfileKey } from './catalogue.js';
import { FLAG_OF, FLAGGED, type SessionFlagValues } from './flag-table.js';
import { resolveProfileSettings } from './resolve.js';

export interface FlagProfile {
  profile: ResolvedProfile;
  /** `--pkcs8-password`: the key password given inline. */
  inlinePassword?: string;
  debug: boolean;
  /** Warnings to show (e.g. a password in argv). */
  warnings: string[];
}

function bad(message: string, hint: string): AgentError {
  return new AgentError('ARGUMENT_INVALID', message, { hint });
}

/** `--endpoint "x" must use https`, `--pkcs11-lib applies only to …`, `--profile-arn: the profile …`. */
function named(label: string, key: string, message: string): string {
  if (message.startsWith(`${key} `)) return `${label}${message.slice(key.length)}`;
  return message.startsWith('"') ? `${label} ${message}` : `${label}: ${message}`;
}

/** One line for the command line: each issue named by its flag (or its environment variable). */
function flagError(e: ConfigError): AgentError {
  const issues: readonly ConfigIssue[] = e.issues;
  const text = issues.map((i) => named(FLAG_OF.get(i.path) ?? i.path, i.path, i.message)).join('; ');
  // The schedule's ARN problems carry no hint of their own (the file names the line); here, say where to copy them from.
  const hint = issues.find((i) => i.hint)?.hint;
  if (issues.some((i) => /_arn$/.test(i.path))) return bad(text, hint ? `${hint}: ${ARN_HINT}` : ARN_HINT);
  return bad(text, hint ?? 'see --help');
}

/**
 * The profile the flags describe, resolved like a schedule's (`name` is the credentials-file section
 * for `update`). Throws ARGUMENT_INVALID with one line naming the flag and a fix.
 */
export function profileFromFlags(name: string, v: SessionFlagValues, env: NodeJS.ProcessEnv): FlagProfile {
  const missing = REQUIRED_KEYS.filter((k) => !v[FLAG_OF.get(k)!.slice(2) as keyof SessionFlagValues]).map((k) => FLAG_OF.get(k)!);
  if (missing.length) throw bad(`missing ${missing.join(', ')}`, 'see --help for the flags CreateSession needs');
  const passwords = [v['pkcs8-password'] !== undefined, !!v['private-key-password-file'], !!v['private-key-password-env']].filter(Boolean).length;
  if (passwords > 1) throw bad('give the key password one way only', 'use one of --private-key-password-file, --private-key-password-env, --pkcs8-password');
  if (v['pkcs11-pin-file'] && v['pkcs11-pin-env']) throw bad('give the PIN one way only', 'use --pkcs11-pin-file or --pkcs11-pin-env');

  const settings: Partial<Record<ProfileKey, unknown>> = {};
  for (const { key, flag } of FLAGGED) {
    const value = v[flag.name as keyof SessionFlagValues];
    if (value === undefined || value === false) continue;
    try {
      settings[key] = typeof value === 'string' && flag.parse ? flag.parse(value) : value;
    } catch (e) {
      if (e instanceof FlagFormatError) throw bad(e.message, e.hint);
      throw e;
    }
  }
  let profile: ResolvedProfile;
  try {
    profile = resolveProfileSettings(name, settings, { env, home: env['HOME'] || homedir(), sourceName: 'command line', secretsAllowed: true, helperCompatible: true });
  } catch (e) {
    if (e instanceof ConfigError) throw flagError(e);
    throw e;
  }

  const warnings: string[] = [];
  const inlinePassword = v['pkcs8-password'];
  if (inlinePassword !== undefined) {
    const problem = settingProblem('private_key_password_file', profile.keyMaterial, '--pkcs8-password');
    if (problem) throw bad(problem.message, problem.hint);
    warnings.push('--pkcs8-password puts the password in the process list; prefer --private-key-password-file or --private-key-password-env');
  }
  if (profile.noVerifySsl) warnings.push('TLS verification is off (--no-verify-ssl): credentials could be sent to an impostor');
  return { profile, ...(inlinePassword !== undefined && { inlinePassword }), debug: !!v.debug, warnings };
}

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

export { SESSION_FLAGS, SESSION_FLAGS_HELP, type SessionFlagValues } from './flag-table.js';
