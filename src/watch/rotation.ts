/**
 * Rotation watching for one signer's files (certificate, key, intermediates, password file,
 * PKCS#12 bundle). It watches the directories each path resolves through — every directory on its
 * symlink chain that holds a link, and the directory of the final file — and re-resolves the
 * chains at every check, so the watched set follows a swap. An event only asks for a check; the
 * check compares fingerprints (see fingerprint.ts) and calls `apply` only when the bytes behind
 * some path changed. That makes a `..data` swap, a certbot `ln -s` + rename, a parent directory
 * symlink swapped, rename-over, in-place writes and delete-then-recreate all look the same, and a
 * chmod or touch look like nothing.
 *
 * When `apply` refuses the new files (half written, or the certificate replaced but not yet its
 * key), the files are checked again every `settleMs` for `settleWindowMs`, so the pair is picked up
 * as soon as it agrees even if the event for the second file is lost; the caller hears `stuck` once
 * if the refusal outlasts `graceMs`. Independently of events, every `intervalMs` (0 = never) the
 * fingerprint is checked again: NFS, some FUSE and CSI mounts and bind mounts from a VM host send
 * no events at all. All timers are unref'd and end with close().
 */
import { watch } from 'chokidar';
import { basename, join } from 'node:path';
import type { Log } from '../log/logger.js';
import type { Clock } from '../time/clock.js';
import { unrefTimer, type Scheduler, type TimerHandle } from '../time/scheduler.js';
import { relevantPaths, takeFingerprint, type Fingerprint } from './fingerprint.js';

export type RotationTrigger = 'event' | 'poll';

/** `watch_interval`'s default: a file system that sends no events is noticed within a minute. */
export const DEFAULT_WATCH_INTERVAL_MS = 60_000;

/** What became of new files handed to `apply`. */
export type ApplyOutcome = { ok: true } | { ok: false; error: string };

/** Watches directories (depth 0) and reports the absolute paths of entries that changed. */
export interface DirWatcher {
  add(dirs: string[]): void;
  unwatch(dirs: string[]): void;
  /** Resolves once the directories given so far are watched. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export type DirWatcherFactory = (dirs: string[], onEvent: (path: string) => void, onError: (e: unknown) => void) => DirWatcher;

/**
 * chokidar on the directories themselves, not following links: a swapped link is an entry that
 * changed. Every entry inside is ignored, so chokidar neither stats nor watches each file of a
 * crowded directory such as /etc/ssl/certs (one inotify watch per directory instead); the
 * directory's own raw events still name every entry that changed, and the fingerprint sorts out
 * which ones matter.
 */
export const chokidarDirWatcher: DirWatcherFactory = (dirs, onEvent, onError) => {
  const watched = new Set(dirs);
  const w = watch(dirs, { ignoreInitial: true, depth: 0, followSymlinks: false, ignorePermissionErrors: true, ignored: (p) => !watched.has(p) });
  w.on('raw', (_event, name, details) => {
    const where = (details as { watchedPath?: string } | undefined)?.watchedPath;
    if (!where || typeof name !== 'string' || !name) return;
    onEvent(basename(where) === name && !watched.has(where) ? where : join(where, name));
  });
  w.on('error', onError);
  const ready = new Promise<void>((resolve) => w.once('ready', () => resolve()));
  return {
    ready,
    add: (d) => {
      d.forEach((x) => watched.add(x));
      w.add(d);
    },
    unwatch: (d) => {
      d.forEach((x) => watched.delete(x));
      w.unwatch(d);
    },
    close: () => w.close(),
  };
};

export interface RotationWatchOptions {
  paths: string[];
  clock: Clock;
  scheduler: Scheduler;
  /** Check the fingerprint this often even without events; 0 turns it off. */
  intervalMs: number;
  /** Called with the trigger of the check that saw the bytes change. */
  apply(trigger: RotationTrigger): Promise<ApplyOutcome>;
  /** The new files have been refused for longer than `graceMs` and did not change since. */
  stuck?(error: string): void;
  log?: Log;
  /** What the files are, in log lines: "certificate files" (the default) or "schedule file". */
  what?: string;
  watcher?: DirWatcherFactory;
  /** Quiet time after the last event before checking. Default 40 ms. */
  debounceMs?: number;
  /** Re-check period while new files are refused. Default 250 ms. */
  settleMs?: number;
  /** How long to keep re-checking refused files. Default 10 s. */
  settleWindowMs?: number;
  /** How long a refusal may last before `stuck`. Default 2 s. */
  graceMs?: number;
}

export class RotationWatch {
  readonly ready: Promise<void>;
  private readonly o: Required<Omit<RotationWatchOptions, 'stuck' | 'log'>> & Pick<RotationWatchOptions, 'stuck' | 'log'>;
  private watcher: DirWatcher | undefined;
  private watchedDirs = new Set<string>();
  private relevant = new Set<string>();
  /** The fingerprint of the files in use (last applied, or the baseline at start). */
  private current: Fingerprint | undefined;
  /** The last fingerprint seen, applied or not (its hashes are re-used). */
  private last: Fingerprint | undefined;
  private refused: { contentKey: string; since: number; trigger: RotationTrigger; warned: boolean; until: number } | undefined;
  private debounce: TimerHandle | undefined;
  private settle: TimerHandle | undefined;
  private poll: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private again: RotationTrigger | undefined;
  private closed = false;
  private lastError: string | undefined;

  constructor(options: RotationWatchOptions) {
    this.o = {
      watcher: chokidarDirWatcher,
      debounceMs: 40,
      settleMs: 250,
      settleWindowMs: 10_000,
      graceMs: 2_000,
      what: 'certificate files',
      ...options,
    };
    // Never rejects: a watch that cannot start leaves the interval check, and says why.
    this.ready = this.start().catch((e: unknown) => this.o.log?.warn(`cannot watch the ${this.o.what}; only the interval check will notice a change`, { paths: this.o.paths.join(', '), error: String(e) }));
  }

  /** Changes the interval check (a reloaded schedule); 0 turns it off. */
  setInterval(ms: number): void {
    if (ms === this.o.intervalMs) return;
    this.o.intervalMs = ms;
    this.armPoll();
  }

  get intervalMs(): number {
    return this.o.intervalMs;
  }

  /** Checks now, as the interval would. */
  checkNow(trigger: RotationTrigger = 'poll'): Promise<void> {
    return this.check(trigger);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const h of [this.debounce, this.settle, this.poll]) if (h !== undefined) this.o.scheduler.clearTimeout(h);
    this.debounce = this.settle = this.poll = undefined;
    await this.running?.catch(() => {});
    await this.watcher?.close().catch(() => {});
  }

  private async start(): Promise<void> {
    const fp = await takeFingerprint(this.o.paths);
    this.current = this.last = fp;
    this.relevant = relevantPaths(fp);
    this.watchedDirs = new Set(fp.dirs);
    if (this.closed) return;
    this.armPoll();
    this.watcher = this.o.watcher(
      fp.dirs,
      (p) => this.onEvent(p),
      (e) => this.o.log?.warn(`${this.o.what}: file watch error`, { paths: this.o.paths.join(', '), error: String(e) }),
    );
    await this.watcher.ready;
  }

  private onEvent(path: string): void {
    if (this.closed || !this.relevant.has(path)) return;
    if (this.debounce !== undefined) this.o.scheduler.clearTimeout(this.debounce);
    this.debounce = this.timer(() => {
      this.debounce = undefined;
      void this.check('event');
    }, this.o.debounceMs);
  }

  private armPoll(): void {
    if (this.poll !== undefined) this.o.scheduler.clearTimeout(this.poll);
    this.poll = undefined;
    if (this.closed || this.o.intervalMs <= 0) return;
    this.poll = this.timer(() => {
      this.poll = undefined;
      void this.check('poll').finally(() => this.armPoll());
    }, this.o.intervalMs);
  }

  private timer(fn: () => void, ms: number): TimerHandle {
    const h = this.o.scheduler.setTimeout(fn, ms);
    unrefTimer(h);
    return h;
  }

  /** One check at a time; a check asked for while one runs runs once more after it. */
  private check(trigger: RotationTrigger): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running) {
      this.again ??= trigger;
      return this.running;
    }
    this.running = this.runCheck(trigger)
      .catch((e: unknown) => this.o.log?.warn(`${this.o.what}: check failed`, { paths: this.o.paths.join(', '), error: String(e) }))
      .finally(() => {
        this.running = undefined;
        const next = this.again;
        this.again = undefined;
        if (next && !this.closed) void this.check(next);
      });
    return this.running;
  }

  private async runCheck(trigger: RotationTrigger): Promise<void> {
    await this.ready.catch(() => {});
    const fp = await takeFingerprint(this.o.paths, this.last);
    if (this.closed) return;
    this.last = fp;
    this.follow(fp);
    if (fp.contentKey === this.current?.contentKey) {
      // Nothing to load (chmod, touch, an unrelated file), or the old bytes came back.
      this.refused = undefined;
      return;
    }
    const refused = this.refused;
    if (refused?.contentKey === fp.contentKey) {
      // Already refused these bytes: wait for them to change, and say so once if they do not.
      if (!refused.warned && this.o.clock.now() - refused.since >= this.o.graceMs) {
        refused.warned = true;
        this.o.stuck?.(this.lastError ?? 'the new files cannot be used');
      }
      this.settleLater();
      return;
    }
    const originalTrigger = refused?.trigger ?? trigger;
    const outcome = await this.o.apply(originalTrigger);
    if (this.closed) return;
    if (outcome.ok) {
      this.current = fp;
      this.refused = undefined;
      this.lastError = undefined;
      return;
    }
    this.lastError = outcome.error;
    const now = this.o.clock.now();
    this.refused = { contentKey: fp.contentKey, since: now, trigger: originalTrigger, warned: false, until: now + this.o.settleWindowMs };
    this.o.log?.debug(`${this.o.what} changed but cannot be used yet; waiting`, { paths: this.o.paths.join(', '), error: outcome.error });
    this.settleLater();
  }

  /** While new files are refused, look again soon: the event for the second file may never come. */
  private settleLater(): void {
    if (this.settle !== undefined || !this.refused || this.o.clock.now() >= this.refused.until) return;
    this.settle = this.timer(() => {
      this.settle = undefined;
      void this.check(this.refused?.trigger ?? 'event');
    }, this.o.settleMs);
  }

  /** Moves the watch to the directories the chains resolve through now. */
  private follow(fp: Fingerprint): void {
    this.relevant = relevantPaths(fp);
    const next = new Set(fp.dirs);
    const added = [...next].filter((d) => !this.watchedDirs.has(d));
    const removed = [...this.watchedDirs].filter((d) => !next.has(d));
    this.watchedDirs = next;
    if (added.length) this.watcher?.add(added);
    if (removed.length) this.watcher?.unwatch(removed);
  }
}
