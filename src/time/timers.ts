/**
 * Keyed one-shot timers at wall-clock times: the refresh timer of each profile. Scheduling a key
 * again replaces its timer (cert-manager's queue habit), so a job never has two refreshes pending.
 *
 * Two problems of plain setTimeout are handled here:
 * - delays above 2^31−1 ms (≈24.8 days) fire after 1 ms in Node: long waits are chunked, and each
 *   wake-up re-reads the Clock before deciding to fire or wait again;
 * - setTimeout counts monotonic time, which stands still while the machine is suspended, so a
 *   refresh due during a suspend would fire only "suspend duration" late — possibly after the
 *   credentials expired. One global watchdog (every `watchdogMs`, default 30 s) compares the wall
 *   clock with every entry's time and fires what is overdue. Its cost is one wake-up per period for
 *   the whole queue plus an O(n) scan over n profiles — no per-profile polling — and it runs only
 *   while entries exist. The watchdog is always unref'd: it must never keep a process alive.
 *   A wall clock stepped backwards makes a timer wake early; it then re-arms for the remainder.
 * Entry timers keep the process alive unless `unref: true` (the agent wants to stay up; a one-shot
 * command may not). Callbacks run asynchronously (never inside schedule()), after their entry has
 * been removed, so a callback may reschedule its own key; what a callback throws or rejects goes to
 * `onError`, never to the console.
 */
import type { Clock } from './clock.js';
import { MAX_TIMEOUT_MS, unrefTimer, type Scheduler, type TimerHandle } from './scheduler.js';

export type TimerCallback = () => void | Promise<void>;

export interface TimerQueueOptions {
  clock: Clock;
  scheduler: Scheduler;
  /** Wall-clock check period; 0 turns the watchdog off. Default 30 000 ms. */
  watchdogMs?: number;
  /** Let the process exit while entries are pending. Default false. */
  unref?: boolean;
  /** Receives what a callback throws or rejects with. */
  onError?: (key: string, error: unknown) => void;
}

interface Entry {
  atMs: number;
  fn: TimerCallback;
  handle: TimerHandle | undefined;
}

export const DEFAULT_WATCHDOG_MS = 30_000;

export class TimerQueue {
  private readonly entries = new Map<string, Entry>();
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly watchdogMs: number;
  private readonly unref: boolean;
  private readonly onError: ((key: string, error: unknown) => void) | undefined;
  private watchdog: TimerHandle | undefined;

  constructor(options: TimerQueueOptions) {
    this.clock = options.clock;
    this.scheduler = options.scheduler;
    this.watchdogMs = options.watchdogMs ?? DEFAULT_WATCHDOG_MS;
    this.unref = options.unref ?? false;
    this.onError = options.onError;
  }

  /** Runs `fn` at wall time `atMs` (at once if already past), replacing any timer for `key`. */
  schedule(key: string, atMs: number, fn: TimerCallback): void {
    this.cancel(key);
    const entry: Entry = { atMs, fn, handle: undefined };
    this.entries.set(key, entry);
    this.arm(key, entry);
    this.startWatchdog();
  }

  /** True when a timer was pending for `key`. */
  cancel(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.disarm(entry);
    if (this.entries.size === 0) this.stopWatchdog();
    return true;
  }

  clear(): void {
    for (const entry of this.entries.values()) this.disarm(entry);
    this.entries.clear();
    this.stopWatchdog();
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The wall time a key is due at, if scheduled. */
  dueAt(key: string): number | undefined {
    return this.entries.get(key)?.atMs;
  }

  get size(): number {
    return this.entries.size;
  }

  private arm(key: string, entry: Entry): void {
    const delay = Math.max(0, entry.atMs - this.clock.now());
    entry.handle = this.scheduler.setTimeout(() => this.wake(key, entry), Math.min(delay, MAX_TIMEOUT_MS));
    if (this.unref) unrefTimer(entry.handle);
  }

  private disarm(entry: Entry): void {
    if (entry.handle !== undefined) this.scheduler.clearTimeout(entry.handle);
    entry.handle = undefined;
  }

  private wake(key: string, entry: Entry): void {
    if (this.entries.get(key) !== entry) return;
    entry.handle = undefined;
    if (this.clock.now() >= entry.atMs) this.fire(key, entry);
    else this.arm(key, entry); // a chunk of a long wait ended, or the wall clock went back
  }

  private fire(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.disarm(entry);
    if (this.entries.size === 0) this.stopWatchdog();
    try {
      const result = entry.fn();
      if (result && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, (e: unknown) => this.report(key, e));
      }
    } catch (e) {
      this.report(key, e);
    }
  }

  private report(key: string, error: unknown): void {
    try {
      this.onError?.(key, error);
    } catch {
      // an error handler that throws must not break the queue
    }
  }

  private startWatchdog(): void {
    if (this.watchdog !== undefined || this.watchdogMs <= 0 || this.entries.size === 0) return;
    this.watchdog = this.scheduler.setTimeout(() => this.tick(), this.watchdogMs);
    unrefTimer(this.watchdog);
  }

  private stopWatchdog(): void {
    if (this.watchdog === undefined) return;
    this.scheduler.clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private tick(): void {
    this.watchdog = undefined;
    const now = this.clock.now();
    const overdue = [...this.entries].filter(([, e]) => e.atMs <= now).sort((a, b) => a[1].atMs - b[1].atMs);
    for (const [key, entry] of overdue) {
      // an earlier callback may have cancelled or replaced this one
      if (this.entries.get(key) === entry) this.fire(key, entry);
    }
    this.startWatchdog();
  }
}
