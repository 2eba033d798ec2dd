/**
 * A real filesystem with a finger on each step: a step can be made to fail with an errno, or to run
 * a hook first (a foreign writer's edit at exactly that moment). Opens are told apart by their flags
 * and names: the lock file, the temp file, the directory (for its fsync), the file being read.
 */
import { nodeFs, O, type FileStat, type Fs, type FsFile } from '../../src/credentials-file/fs.js';

export type Step =
  | 'read-open'
  | 'read-stat'
  | 'temp-open'
  | 'temp-stat'
  | 'temp-chmod'
  | 'temp-chown'
  | 'temp-write'
  | 'temp-sync'
  | 'temp-close'
  | 'rename'
  | 'dir-open'
  | 'dir-sync'
  | 'mkdir'
  | 'lock-open';

export type Action = Error | (() => void | Promise<void>);

export function errno(code: string): Error {
  return Object.assign(new Error(`${code}: injected failure`), { code });
}

export interface FaultyFs extends Fs {
  /** Every step taken, in order. */
  readonly steps: Step[];
  /** Paths of the temp files opened. */
  readonly temps: string[];
  /** Arguments of each chown call on a temp file (recorded, not performed, when `fakeOwner` is set). */
  readonly chowns: [number, number][];
}

export interface FaultyOptions {
  /** Pretend the file being replaced belongs to this owner (so the writer must chown, without root). */
  fakeOwner?: { uid: number; gid: number };
  /** Report every modification time as 0, like a file system with coarse timestamps would miss a quick change. */
  frozenTimes?: boolean;
  /** Fail (or hook) a step only on its n-th occurrence (1-based); default every time. */
  nth?: Partial<Record<Step, number>>;
}

export function faultyFs(plan: Partial<Record<Step, Action>>, options: FaultyOptions = {}, base: Fs = nodeFs): FaultyFs {
  const steps: Step[] = [];
  const temps: string[] = [];
  const chowns: [number, number][] = [];
  const counts = new Map<Step, number>();
  const hit = async (step: Step): Promise<void> => {
    steps.push(step);
    const n = (counts.get(step) ?? 0) + 1;
    counts.set(step, n);
    const action = plan[step];
    if (!action) return;
    const only = options.nth?.[step];
    if (only !== undefined && only !== n) return;
    if (action instanceof Error) throw action;
    await action();
  };
  const hitSync = (step: Step): void => {
    steps.push(step);
    const n = (counts.get(step) ?? 0) + 1;
    counts.set(step, n);
    const action = plan[step];
    if (!action) return;
    const only = options.nth?.[step];
    if (only !== undefined && only !== n) return;
    if (action instanceof Error) throw action;
    void action();
  };

  const withOwner = (st: FileStat): FileStat => {
    const owner = options.fakeOwner;
    const times = options.frozenTimes ? { mtimeMs: 0, ctimeMs: 0 } : {};
    if (!owner && !options.frozenTimes) return st;
    return Object.assign(Object.create(Object.getPrototypeOf(st) as object) as FileStat, st, owner ?? {}, times);
  };

  const wrap = (f: FsFile, kind: 'temp' | 'dir' | 'read' | 'lock'): FsFile => ({
    stat: async () => {
      if (kind === 'temp') await hit('temp-stat');
      if (kind === 'read') {
        await hit('read-stat');
        return withOwner(await f.stat());
      }
      return f.stat();
    },
    readFile: () => f.readFile(),
    read: (b, o, l, p) => f.read(b, o, l, p),
    writeFile: async (d) => {
      if (kind === 'temp') await hit('temp-write');
      return f.writeFile(d);
    },
    sync: async () => {
      if (kind === 'temp') await hit('temp-sync');
      if (kind === 'dir') await hit('dir-sync');
      return f.sync();
    },
    chmod: async (m) => {
      if (kind === 'temp') await hit('temp-chmod');
      return f.chmod(m);
    },
    chown: async (u, g) => {
      if (kind === 'temp') {
        await hit('temp-chown');
        chowns.push([u, g]);
        if (options.fakeOwner) return;
      }
      return f.chown(u, g);
    },
    close: async () => {
      // close(2) releases the descriptor even when it reports an error: so does the fake.
      if (kind === 'temp') {
        try {
          await hit('temp-close');
        } catch (e) {
          await f.close().catch(() => undefined);
          throw e;
        }
      }
      return f.close();
    },
  });

  return {
    ...base,
    steps,
    temps,
    chowns,
    async open(path, flags, mode) {
      const exclusive = (flags & O.O_EXCL) !== 0;
      const kind = exclusive && /\.lock(\.[0-9a-f]{12}\.tmp)?$/.test(path) ? 'lock' : exclusive ? 'temp' : (flags & O.O_DIRECTORY) !== 0 ? 'dir' : 'read';
      await hit(kind === 'lock' ? 'lock-open' : kind === 'temp' ? 'temp-open' : kind === 'dir' ? 'dir-open' : 'read-open');
      const f = await base.open(path, flags, mode);
      if (kind === 'temp') temps.push(path);
      return wrap(f, kind);
    },
    async mkdir(path, opts) {
      await hit('mkdir');
      return base.mkdir(path, opts);
    },
    statSync(path) {
      return withOwner(base.statSync(path));
    },
    async lstat(path) {
      const st = await base.lstat(path);
      return st.isFile() ? withOwner(st) : st;
    },
    renameIfUnchanged(from, to, unchanged) {
      hitSync('rename');
      return base.renameIfUnchanged(from, to, (st) => unchanged(st && withOwner(st)));
    },
  };
}
