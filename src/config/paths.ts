/**
 * Path values of the schedule: `~` and `~/…` expand to the home directory given by the caller, and
 * a relative path is taken relative to the schedule's own directory (a daemon's working directory
 * is `/`, so "relative to where it was started" would mean nothing useful). `~user` is refused
 * rather than guessed. Pure: no filesystem access.
 */
import { isAbsolute, join, resolve } from 'node:path';

export type Expanded = { path: string } | { error: string; hint: string };

export function expandPath(value: string, ctx: { home: string; baseDir?: string | undefined }): Expanded {
  if (value === '') return { error: 'the path is empty', hint: 'give a file path, or remove the key' };
  let path = value;
  if (path === '~') path = ctx.home;
  else if (path.startsWith('~/')) path = join(ctx.home, path.slice(2));
  else if (path.startsWith('~')) {
    return { error: `"${value}": ~user paths are not supported`, hint: 'write the absolute path, or ~/… for the agent user\'s home' };
  }
  if (isAbsolute(path)) return { path: resolve(path) };
  return { path: ctx.baseDir !== undefined ? resolve(ctx.baseDir, path) : path };
}
