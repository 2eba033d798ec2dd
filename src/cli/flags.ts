/**
 * Every command's flag parsing: node:util parseArgs in strict mode, `--help` printing the command's
 * help, and a parse error becoming one line on stderr and exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT, type CommandIO } from './io.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The parsed values, or the exit code the command should return (help printed, or a bad flag). */
export function parseCommandFlags<O extends Options>(command: string, args: string[], options: O, help: string, io: CommandIO) {
  try {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    if ((values as { help?: boolean }).help) {
      io.stdout.write(help + '\n');
      return EXIT.OK;
    }
    return values;
  } catch (e) {
    io.stderr.write(`rolesanywhere-agent ${command}: ${(e as Error).message} — see --help\n`);
    return EXIT.BAD_INPUT;
  }
}
