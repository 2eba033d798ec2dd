/**
 * The filesystem steps the credentials-file writer takes, behind a small interface so tests can make
 * each step fail in turn (open, write, fsync, chmod, chown, rename, directory fsync) and check that
 * the old file survives. `nodeFs` is the real thing, over node:fs/promises.
 *
 * The last check and the rename are one step, `renameIfUnchanged`, synchronous on purpose: they run
 * back to back in one turn of the event loop, so a writer that does not take our lock (an editor,
 * `aws configure set`) has the smallest possible window to slip a change in between and have it
 * overwritten. The window cannot be closed with rename(2) alone: it would take
 * renameat2(RENAME_EXCHANGE), which Node does not offer. It is a stat and a rename apart — on the
 * ext4 here, a rename takes about 0.4 ms, and a foreign rename in progress at our check counts too.
 */
import * as fsSync from 'node:fs';
import * as fsp from 'node:fs/promises';

export interface FileStat {
  readonly dev: number;
  readonly ino: number;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/** An open file: the subset of node's FileHandle the writer uses. */
export interface FsFile {
  stat(): Promise<FileStat>;
  readFile(): Promise<Buffer>;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  writeFile(data: Uint8Array): Promise<void>;
  sync(): Promise<void>;
  chmod(mode: number): Promise<void>;
  chown(uid: number, gid: number): Promise<void>;
  close(): Promise<void>;
}

export interface Fs {
  open(path: string, flags: number, mode?: number): Promise<FsFile>;
  stat(path: string): Promise<FileStat>;
  lstat(path: string): Promise<FileStat>;
  readlink(path: string): Promise<string>;
  mkdir(path: string, options: { recursive: boolean; mode: number }): Promise<string | undefined>;
  chmod(path: string, mode: number): Promise<void>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<Buffer>;
  rename(from: string, to: string): Promise<void>;
  link(existing: string, newPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** For the lock's ownership check. */
  statSync(path: string): FileStat;
  /** For validate: whether the agent's user may write here (EROFS on a read-only mount). */
  access(path: string, mode: number): Promise<void>;
  /**
   * Renames `from` over `to` only if `unchanged` accepts the current stat of `to` (undefined when it
   * does not exist); returns whether it renamed. The last check and the rename, back to back.
   */
  renameIfUnchanged(from: string, to: string, unchanged: (current: FileStat | undefined) => boolean): boolean;
}

export const nodeFs: Fs = {
  open: (path, flags, mode) => fsp.open(path, flags, mode),
  stat: (path) => fsp.stat(path),
  lstat: (path) => fsp.lstat(path),
  readlink: (path) => fsp.readlink(path),
  mkdir: (path, options) => fsp.mkdir(path, options),
  chmod: (path, mode) => fsp.chmod(path, mode),
  readdir: (path) => fsp.readdir(path),
  readFile: (path) => fsp.readFile(path),
  rename: (from, to) => fsp.rename(from, to),
  link: (existing, newPath) => fsp.link(existing, newPath),
  unlink: (path) => fsp.unlink(path),
  statSync: (path) => fsSync.statSync(path),
  access: (path, mode) => fsp.access(path, mode),
  renameIfUnchanged(from, to, unchanged) {
    let current: FileStat | undefined;
    try {
      current = fsSync.statSync(to);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
    if (!unchanged(current)) return false;
    fsSync.renameSync(from, to);
    return true;
  },
};

export const O = fsSync.constants;

/** The `code` of a Node system error, if it is one. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string'
    ? (e as { code: string }).code
    : undefined;
}
