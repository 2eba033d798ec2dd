/**
 * Watches a few plain files (`run` uses it for the schedule file) and calls back once per burst of
 * changes: in-place writes, rename-over and delete-and-recreate. `awaitWriteFinish` keeps a
 * half-written file from being read. Key material is watched by rotation.ts instead, which also
 * follows symlink chains (Kubernetes `..data`, certbot, swapped parent directories) and decides by
 * content rather than by event.
 */
import { watch, type FSWatcher } from 'chokidar';
import { resolve } from 'node:path';

export interface WatchOptions {
  /** Quiet time after the last event before calling back. */
  debounceMs?: number;
  /** How long a file's size must stay unchanged before it counts as written. */
  stabilityMs?: number;
  onError?: (error: unknown) => void;
}

export interface FileWatch {
  close(): Promise<void>;
  /** Resolves once the initial scan is done and events will be seen. */
  ready: Promise<void>;
}

export function watchFiles(paths: string[], onChange: (changed: string[]) => void, o: WatchOptions = {}): FileWatch {
  const debounceMs = o.debounceMs ?? 50;
  const stabilityMs = o.stabilityMs ?? 80;
  const files = [...new Set(paths.map((p) => resolve(p)))];
  // chokidar watches a single file through its directory already (its `atomic` handling), which
  // catches rename-over, delete-and-recreate and the `..data` symlink swap; watching the whole
  // directory on top made every unrelated file in it (e.g. a credentials file written beside the
  // certificates) cost a scan.
  const watcher: FSWatcher = watch(files, {
    ignoreInitial: true,
    depth: 0,
    followSymlinks: true,
    awaitWriteFinish: { stabilityThreshold: stabilityMs, pollInterval: 20 },
  });
  const interesting = (p: string) => files.includes(p) || /(^|\/)\.\.data(\/|$)/.test(p);
  let timer: NodeJS.Timeout | undefined;
  let pending = new Set<string>();
  const fire = () => {
    timer = undefined;
    const changed = [...pending];
    pending = new Set();
    onChange(changed);
  };
  watcher.on('all', (_event, path) => {
    if (!interesting(path)) return;
    pending.add(path);
    if (timer) clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  });
  watcher.on('error', (e) => o.onError?.(e));
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    ready,
    async close() {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}
