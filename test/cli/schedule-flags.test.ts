/**
 * The schedule commands' flags come from one table (src/cli/schedule-flags.ts): each command's
 * --help lists exactly the flags it parses, the README's command table names the same ones, and a
 * bad value is refused by the entry's own check, whatever the command.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onceCommand, ONCE_FLAGS } from '../../src/cli/once.js';
import { runCommand, RUN_FLAGS } from '../../src/cli/run.js';
import { SCHEDULE_FLAGS, type ScheduleCommandSpec, type ScheduleFlagName } from '../../src/cli/schedule-flags.js';
import { statusCommand, STATUS_FLAGS } from '../../src/cli/status.js';
import { validateCommand, VALIDATE_FLAGS } from '../../src/cli/validate.js';
import type { CommandIO } from '../../src/cli/io.js';
import { captureIO } from '../helpers/io.js';
import { ROOT } from './built-cli.js';

type Command = (args: string[], io: CommandIO) => Promise<number>;
const COMMANDS: Array<[ScheduleCommandSpec<ScheduleFlagName>, Command]> = [
  [RUN_FLAGS, runCommand],
  [ONCE_FLAGS, onceCommand],
  [VALIDATE_FLAGS, validateCommand],
  [STATUS_FLAGS, statusCommand],
];

/** Flag names in the order a text names them (`--x` and `-x, --x` alike). */
const flagsIn = (text: string) => [...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!);

/** The first code span of the README command table's row for `command`. */
function readmeSynopsis(command: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const row = readme.split('\n').find((l) => l.startsWith(`| \`${command} `) || l.startsWith(`| \`${command}\``));
  if (!row) throw new Error(`README.md has no command-table row for ${command}`);
  return /`([^`]+)`/.exec(row)![1]!;
}

describe('cli: the schedule commands\' flag table', () => {
  for (const [spec, command] of COMMANDS) {
    describe(spec.command, () => {
      it('--help lists exactly the flags the command parses, each with its table entry\'s help line', async () => {
        const io = captureIO();
        expect(await command(['--help'], io), 'exit code of --help').to.equal(0);
        const help = io.out();
        const [usage, ...rest] = help.split('\n');
        expect(flagsIn(usage!), 'flags in the usage line').to.deep.equal(spec.flags.filter((f) => f !== 'help'));
        const listed = rest.slice(rest.indexOf('Flags:') + 1).filter((l) => l.trim());
        expect(listed.map((l) => flagsIn(l)[0]), 'flags under Flags:').to.deep.equal([...spec.flags]);
        for (const [i, name] of spec.flags.entries()) {
          expect(listed[i]!.endsWith(SCHEDULE_FLAGS[name].help), `help line of --${name}: ${listed[i]}`).to.equal(true);
        }
        for (const name of spec.flags) {
          const short = (SCHEDULE_FLAGS[name] as { short?: string }).short;
          if (short) expect(help, `short form of --${name}`).to.include(`-${short}, --${name}`);
        }
      });

      it('the README command table names the same flags (--help aside)', () => {
        expect(flagsIn(readmeSynopsis(spec.command)).sort(), `README row of ${spec.command}`).to.deep.equal(spec.flags.filter((f) => f !== 'help').sort());
      });

      it('refuses a flag of the table that it does not take (exit 2)', async () => {
        const other = (Object.keys(SCHEDULE_FLAGS) as ScheduleFlagName[]).find((f) => !spec.flags.includes(f) && SCHEDULE_FLAGS[f].type === 'boolean');
        const stringFlag = (Object.keys(SCHEDULE_FLAGS) as ScheduleFlagName[]).find((f) => !spec.flags.includes(f) && SCHEDULE_FLAGS[f].type === 'string');
        for (const f of [other, stringFlag].filter((x): x is ScheduleFlagName => !!x)) {
          const io = captureIO();
          const args = SCHEDULE_FLAGS[f].type === 'string' ? [`--${f}`, 'x'] : [`--${f}`];
          expect(await command(args, io), `exit code of ${spec.command} --${f}`).to.equal(2);
          expect(io.err(), 'stderr').to.match(new RegExp(`^rolesanywhere-agent ${spec.command}: Unknown option '--${f}'.* — see --help\\n$`));
        }
      });
    });
  }

  const bad: Array<[Command, string, string[], string]> = [
    [runCommand, 'run', ['--log-level', 'loud'], '--log-level must be one of error, warn, info, debug'],
    [onceCommand, 'once', ['--log-level', 'loud'], '--log-level must be one of error, warn, info, debug'],
    [runCommand, 'run', ['--log-format', 'xml'], '--log-format must be text or json'],
    [onceCommand, 'once', ['--profile', 'ok', '--profile', '__proto__'], '--profile "__proto__" cannot be a profile: the AWS SDK for JavaScript refuses a whole credentials file that has a [__proto__] section — choose another name'],
    [onceCommand, 'once', ['--profile', 'a b'], '--profile "a b" cannot be a section name in the credentials file — 1 to 64 characters of letters, digits and _ . @ + -'],
  ];
  for (const [command, name, args, message] of bad) {
    it(`${name} ${args.join(' ')}: exit 2 with the entry's message, before the schedule is read`, async () => {
      const io = captureIO();
      // No --config: the check of the value comes first.
      expect(await command(args, io), 'exit code').to.equal(2);
      expect(io.err(), 'stderr').to.equal(`rolesanywhere-agent ${name}: ${message}\n`);
    });
  }
});
