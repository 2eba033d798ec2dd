/**
 * Reading the schedule file: the only filesystem access of schedule loading. Relative paths in the
 * file are resolved against the file's own directory; everything else is parseSchedule's.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError, issue } from './issues.js';
import { parseSchedule } from './parse.js';
import type { Schedule, ScheduleDeps } from './schedule.js';

export async function loadSchedule(path: string, deps: Omit<ScheduleDeps, 'baseDir'>): Promise<Schedule> {
  const absolute = resolve(path);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new ConfigError(absolute, [issue('', undefined, `cannot read the schedule ${absolute}: ${why}`, 'check the --config path and that the agent user can read it')], { cause: e });
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  return parseSchedule(text, absolute, { ...deps, baseDir: dirname(absolute) });
}
