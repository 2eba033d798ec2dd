/**
 * The flags of the schedule commands (`run`, `once`, `validate`, `status`), each declared once:
 * name, short form, type, the placeholder and help line shown by `--help`, and the check of its
 * value. A command names the flags it takes; its parser, its `--help` (usage line and flag list)
 * and the errors for a bad value all come from these entries, so a flag is never accepted by one
 * command and spelled or checked differently by another. test/cli/schedule-flags.test.ts holds
 * every command's `--help` and the README's command table to the same lists.
 */
import { LOG_LEVELS } from '../config/index.js';
import { profileNameProblem } from '../credentials-file/profile-name.js';
import { parseCommandFlags } from './flags.js';
import { EXIT, type CommandIO } from './io.js';

export interface ScheduleFlag {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** The value's placeholder in the usage line and the flag list. */
  value?: string;
  /** Shown in the usage line without brackets. */
  required?: boolean;
  help: string;
  /** What is wrong with a value, as text that follows the flag's name; undefined when it is fine. */
  check?: (value: string) => string | undefined;
}

const oneOf = (allowed: readonly string[], shown = `one of ${allowed.join(', ')}`) => (v: string) => (allowed.includes(v) ? undefined : `must be ${shown}`);

export const SCHEDULE_FLAGS = {
  config: { type: 'string', short: 'c', value: 'FILE', required: true, help: 'the YAML schedule (every key: config/agent.example.yaml)' },
  profile: {
    type: 'string',
    multiple: true,
    value: 'NAME',
    help: 'only this profile of the schedule; repeat for more',
    check: (v) => {
      const p = profileNameProblem(v);
      return p && `${p.message} — ${p.hint}`;
    },
  },
  json: { type: 'boolean', help: 'print JSON on stdout instead of text' },
  'log-level': { type: 'string', value: 'LEVEL', help: `one of ${LOG_LEVELS.join(', ')}`, check: oneOf(LOG_LEVELS) },
  'log-format': { type: 'string', value: 'text|json', help: 'log lines as text or JSON (default: text on a terminal, JSON otherwise)', check: oneOf(['text', 'json'], 'text or json') },
  help: { type: 'boolean', short: 'h', help: 'print this help and exit' },
} as const satisfies Record<string, ScheduleFlag>;

export type ScheduleFlagName = keyof typeof SCHEDULE_FLAGS;

type ValueOf<F> = F extends { multiple: true } ? string[] : F extends { type: 'string' } ? string : boolean;
export type ScheduleFlagValues<N extends ScheduleFlagName> = { [K in N]?: ValueOf<(typeof SCHEDULE_FLAGS)[K]> };

/** What a schedule command declares: its flags (in help order) and the text between usage and flags. */
export interface ScheduleCommandSpec<N extends ScheduleFlagName> {
  command: string;
  flags: readonly N[];
  description: string;
}

function synopsis(name: ScheduleFlagName): string {
  const f: ScheduleFlag = SCHEDULE_FLAGS[name];
  const text = `--${name}${f.value ? ` ${f.value}` : ''}`;
  if (f.required) return text;
  return f.multiple ? `[${text}]...` : `[${text}]`;
}

/** The usage line: the command and every flag but --help. */
export function usageLine<N extends ScheduleFlagName>(spec: ScheduleCommandSpec<N>): string {
  return `Usage: rolesanywhere-agent ${spec.command} ${spec.flags.filter((n) => n !== 'help').map(synopsis).join(' ')}`;
}

/** `--help`: usage line, the command's description, then one line per flag from its entry. */
export function scheduleCommandHelp<N extends ScheduleFlagName>(spec: ScheduleCommandSpec<N>): string {
  const left = spec.flags.map((n) => {
    const f: ScheduleFlag = SCHEDULE_FLAGS[n];
    return `${f.short ? `-${f.short}, ` : '    '}--${n}${f.value ? ` ${f.value}` : ''}`;
  });
  const width = Math.max(...left.map((l) => l.length)) + 2;
  const lines = spec.flags.map((n, i) => `  ${left[i]!.padEnd(width)}${SCHEDULE_FLAGS[n].help}`);
  return `${usageLine(spec)}\n\n${spec.description}\n\nFlags:\n${lines.join('\n')}`;
}

/**
 * Parses `args` with exactly the command's flags and checks each value by its entry. Returns the
 * values, or the exit code to return: 0 after printing --help, 2 after one line on stderr.
 */
export function parseScheduleFlags<N extends ScheduleFlagName>(spec: ScheduleCommandSpec<N>, args: string[], io: CommandIO): ScheduleFlagValues<N> | number {
  const options = Object.fromEntries(
    spec.flags.map((n) => {
      const f: ScheduleFlag = SCHEDULE_FLAGS[n];
      return [n, { type: f.type, ...(f.short && { short: f.short }), ...(f.multiple && { multiple: true }) }];
    }),
  );
  const values = parseCommandFlags(spec.command, args, options, scheduleCommandHelp(spec), io);
  if (typeof values === 'number') return values;
  for (const n of spec.flags) {
    const check = (SCHEDULE_FLAGS[n] as ScheduleFlag).check;
    const given = (values as Record<string, unknown>)[n];
    if (!check || given === undefined) continue;
    for (const v of Array.isArray(given) ? given : [given]) {
      const problem = check(String(v));
      if (problem) {
        io.stderr.write(`rolesanywhere-agent ${spec.command}: --${n} ${problem}\n`);
        return EXIT.BAD_INPUT;
      }
    }
  }
  return values as ScheduleFlagValues<N>;
}
