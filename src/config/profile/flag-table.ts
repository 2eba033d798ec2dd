/**
 * The command line of `credential-process` and `update` (the official helper's flags, plus ours) as
 * the settings catalogue declares it: SESSION_FLAGS for parseArgs and their `--help`. Data only, so
 * `credential-process --help` loads no reader; profile/flags.ts resolves the values.
 */
import { SETTINGS, type FlagGroup, type ProfileKey, type SettingFlag } from './catalogue.js';

type WithFlag = Extract<(typeof SETTINGS)[number], { flag: unknown }>;
type CatalogueFlags = { [S in WithFlag as S['flag']['name']]: { type: S['flag']['type'] } };

/** Flags that are not profile settings: where they sit in --help, after which setting's flag. */
const COMMAND_FLAGS = {
  'pkcs8-password': { type: 'string', group: 'Key material', after: 'private-key-password-env', usage: '--pkcs8-password PW', help: '… or inline (compatibility; visible in the process list)' },
  debug: { type: 'boolean', group: 'Transport', after: 'connect-timeout', usage: '--debug', help: 'print the canonical request and string to sign on stderr (no secrets)' },
} as const satisfies Record<string, { type: 'string' | 'boolean'; group: FlagGroup; after: string; usage: string; help: string }>;

export const FLAGGED: readonly { key: ProfileKey; flag: SettingFlag }[] = SETTINGS.flatMap((s) => ('flag' in s ? [{ key: s.key as ProfileKey, flag: s.flag as SettingFlag }] : []));

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

/** `--flag-name` of each setting that has one. */
export const FLAG_OF: ReadonlyMap<string, string> = new Map(FLAGGED.map(({ key, flag }) => [key, `--${flag.name}`]));
