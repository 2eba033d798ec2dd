/**
 * The one writer of a credentials file inside the agent. Jobs call `write(profile, credentials)`
 * (or `remove(profile)` to take the agent's keys out of it);
 * updates that arrive together — within `batchWindowMs`, or while a replace is in flight — go into a
 * single atomic replace, the latest value of a profile winning. Each `write` resolves once its
 * profile is on disk (the replace fsynced the file and renamed it into place; see replace.ts for the
 * directory-fsync contract) or rejects with that replace's error.
 */
import type { Credentials } from '../credentials.js';
import { AgentError } from '../errors.js';
import { systemClock, type Clock } from '../time/clock.js';
import { checkChange, type ProfileChange } from './edit.js';
import type { Fs } from './fs.js';
import type { LockOptions } from './lock.js';
import { replaceProfiles } from './replace.js';
import { toTrust, type Trust, type TrustPolicy } from './trust.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface CredentialsWriterOptions {
  clock?: Clock;
  /** How long to gather updates before writing (default 50 ms). */
  batchWindowMs?: number;
  onWarning?: (message: string) => void;
  fs?: Fs;
  lock?: LockOptions;
  /** For tests: timers that fire when told to. */
  timers?: Timers;
  /** The path-trust rule's users (credentials_file_owner, credentials_dir_shared); see trust.ts. */
  trust?: Trust | TrustPolicy;
}

export const DEFAULT_BATCH_WINDOW_MS = 50;
/**
 * Under a burst, the next replace waits this many times as long as the last one took. 8, not 4:
 * a 1000-profile refresh cycle made 3-5 replaces instead of 5-9, and its CPU per refresh fell
 * from 1.25-1.26x to 1.18-1.21x the floor client as then measured, in its warm-up (bench/agent.ts,
 * docs/benchmarks.md "Sixth pass"; only the difference holds: "Seventh pass"). The price is a
 * later write in a burst: for a 1 MB file, ~160 ms after the last replace instead of ~80, while
 * the credentials being replaced are still valid for most of an hour.
 */
export const GATHER_FACTOR = 8;

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Pending {
  /** undefined: remove the agent's keys from the profile. */
  credentials: Credentials | undefined;
  waiters: Waiter[];
}

export class CredentialsWriter {
  private pending = new Map<string, Pending>();
  private timer: unknown;
  private inFlight: Promise<void> | undefined;
  private closed = false;
  private replaces = 0;
  private readonly timers: Timers;
  private readonly batchWindowMs: number;
  /** When a foreign lock was first seen unchanged, across replaces (lock.ts judges staleness by it). */
  private readonly lockSeen = new Map<string, number>();
  private trust: Promise<Trust> | undefined;

  constructor(
    readonly path: string,
    private readonly options: CredentialsWriterOptions = {},
  ) {
    this.timers = options.timers ?? realTimers;
    this.batchWindowMs = options.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS;
  }

  /** Replaces started so far (one per batch). */
  get replaceCount(): number {
    return this.replaces;
  }

  write(profile: string, credentials: Credentials): Promise<void> {
    return this.enqueue({ profile, credentials });
  }

  /** Takes the agent's keys out of the profile (see ProfileRemoval); a later write in the same batch wins. */
  remove(profile: string): Promise<void> {
    return this.enqueue({ profile, remove: true });
  }

  private enqueue(change: ProfileChange): Promise<void> {
    const { profile } = change;
    const credentials = 'credentials' in change ? change.credentials : undefined;
    if (this.closed) {
      return Promise.reject(new AgentError('ABORTED', `the credentials writer for ${this.path} is closed; profile "${profile}" was not written`));
    }
    try {
      // A bad update is refused alone, so it cannot fail the batch it would have joined.
      checkChange(change);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<void>((resolve, reject) => {
      const entry = this.pending.get(profile);
      if (entry) {
        entry.credentials = credentials;
        entry.waiters.push({ resolve, reject });
      } else {
        this.pending.set(profile, { credentials, waiters: [{ resolve, reject }] });
      }
      this.schedule();
    });
  }

  /** Writes whatever is pending now and waits for every replace to settle (errors go to the writes). */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.inFlight || this.pending.size) {
      this.run();
      await this.inFlight;
    }
  }

  /** Refuses new writes, then flushes. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private schedule(): void {
    // While a replace is in flight, its completion picks up what is pending.
    if (this.inFlight || this.timer !== undefined) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, this.batchWindowMs);
  }

  private run(): void {
    if (this.inFlight || this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const updates = [...batch].map(([profile, p]): ProfileChange => (p.credentials ? { profile, credentials: p.credentials } : { profile, remove: true }));
    this.replaces++;
    const { fs, onWarning, lock, clock } = this.options;
    const started = (clock ?? systemClock).now();
    // A bad owner name fails every write (and again on the next, once fixed and reloaded).
    const trust = (this.trust ??= toTrust(this.options.trust));
    trust.catch(() => (this.trust = undefined));
    this.inFlight = trust
      .then((t) => replaceProfiles(this.path, updates, { fs, onWarning, lock: { seen: this.lockSeen, ...lock }, clock: clock ?? systemClock, trust: t }))
      .then(
        () => {
          for (const p of batch.values()) for (const w of p.waiters) w.resolve();
        },
        (e: unknown) => {
          for (const p of batch.values()) for (const w of p.waiters) w.reject(e);
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        // Under a burst, gather for GATHER_FACTOR times as long as the last replace took (at least
        // the batch window) before the next one, so rewriting the file takes at most a ninth of
        // the agent's time: a 1 MB file costs ~20 ms to edit and verify, and replaces paced only by
        // their own length spent half of a 1000-profile refresh cycle's CPU on the file.
        if (this.pending.size && this.timer === undefined) {
          const wait = Math.max(this.batchWindowMs, GATHER_FACTOR * ((this.options.clock ?? systemClock).now() - started));
          this.timer = this.timers.setTimeout(() => {
            this.timer = undefined;
            this.run();
          }, wait);
        }
      });
  }
}
