/**
 * Watches the files a signer is made of (certificate, key, intermediates, password) and calls back
 * once per burst of changes. Catches in-place writes, rename-over, delete-and-recreate and the
 * Kubernetes `..data` symlink swap (chokidar follows the link). `awaitWriteFinish` keeps a
 * half-written file from being read; whatever still slips through fails the signer's checks and
 * the old pair stays in use until the next change.
 */
import { watch, type FSWatcher } from 'chokidar';
import { dirname, resolve } from 'node:path';

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
  // Watching the parent directories as well catches a file that is deleted and re-created or
  // renamed over, and a `..data` symlink swap in a Kubernetes secret volume.
  const dirs = [...new Set(files.map((f) => dirname(f)))];
  const watcher: FSWatcher = watch([...files, ...dirs], {
    ignoreInitial: true,
    depth: 0,
    followSymlinks: true,
    awaitWriteFinish: { stabilityThreshold: stabilityMs, pollInterval: 20 },
  });
  const interesting = (p: string) => files.includes(p) || dirs.includes(p) || /(^|\/)\.\.data(\/|$)/.test(p);
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
