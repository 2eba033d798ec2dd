/**
 * The command line of `credential-process` and `update` (the official helper's flags, plus ours),
 * derived from the settings catalogue: each setting's flag becomes its snake_case key, and the profile
 * goes through the same readers and cross-checks as a schedule's (profile/resolve.ts), the catalogue's
 * environment variables (AWS_CA_BUNDLE) included. What only the command line has: `--pkcs8-password`
 * (an inline secret, with a warning), `--debug`, and `--help`.
 */
import { homedir } from 'node:os';
import { AgentError } from '../errors.js';
import { ARN_HINT } from '../config/fields.js';
import { ConfigError, type ConfigIssue } from '../config/issues.js';
import type { ResolvedProfile } from '../config/schedule.js';
import { settingProblem } from '../keys/sources/index.js';
import { FlagFormatError, REQUIRED_KEYS, SETTINGS, type FlagGroup, type ProfileKey, type SettingFlag } from './catalogue.js';
import { resolveProfileSettings } from './resolve.js';

type WithFlag = Extract<(typeof SETTINGS)[number], { flag: unknown }>;
type CatalogueFlags = { [S in WithFlag as S['flag']['name']]: { type: S['flag']['type'] } };

/** Flags that are not profile settings: where they sit in --help, after which setting's flag. */
const COMMAND_FLAGS = {
  'pkcs8-password': { type: 'string', group: 'Key material', after: 'private-key-password-env', usage: '--pkcs8-password PW', help: '… or inline (compatibility; visible in the process list)' },
  debug: { type: 'boolean', group: 'Transport', after: 'connect-timeout', usage: '--debug', help: 'print the canonical request and string to sign on stderr (no secrets)' },
} as const satisfies Record<string, { type: 'string' | 'boolean'; group: FlagGroup; after: string; usage: string; help: string }>;

const FLAGGED: readonly { key: ProfileKey; flag: SettingFlag }[] = SETTINGS.flatMap((s) => ('flag' in s ? [{ key: s.key as ProfileKey, flag: s.flag as SettingFlag }] : []));

export const SESSION_FLAGS = {
  ...(Object.fromEntries(FLAGGED.map(({ flag }) => [flag.name, { type: flag.type }])) as CatalogueFlags),
  'pkcs8-password': { type: 'string' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type SessionFlagValues = { [K in keyof typeof SESSION_FLAGS]?: (typeof SESSION_FLAGS)[K]['type'] extends 'string' ? string : boolean };

const GROUPS: readonly FlagGroup[] = ['Key material', 'Session', 'Transport'];
const USAGE_WIDTH = 30;

/** The `--help` text of the session flags, grouped, from the catalogue. */
export function sessionFlagsHelp(): string {
  const lines: string[] = [];
  const entry = (usage: string, help: string) => {
    const [first, ...rest] = help.split('\n');
    lines.push(`  ${usage.padEnd(USAGE_WIDTH)}${usage.length >= USAGE_WIDTH ? ' ' : ''}${first}`);
    for (const r of rest) lines.push(`  ${' '.repeat(USAGE_WIDTH)}${r}`);
  };
  for (const group of GROUPS) {
    lines.push(`${group}:`);
    for (const { flag } of FLAGGED.filter((f) => f.flag.group === group)) {
      entry(flag.usage, flag.help);
      for (const extra of Object.values(COMMAND_FLAGS)) if (extra.after === flag.name) entry(extra.usage, extra.help);
    }
  }
  return lines.join('\n');
}

export const SESSION_FLAGS_HELP = sessionFlagsHelp();

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

const FLAG_OF = new Map<string, string>(FLAGGED.map(({ key, flag }) => [key, `--${flag.name}`]));

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
