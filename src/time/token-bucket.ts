/**
 * The global CreateSession quota: a token bucket (rate per second, burst) shared by every profile
 * of the agent, on an injected Clock and Scheduler so tests move time by hand.
 *
 * - `take()` resolves when a token is available, first come first served; an aborted signal
 *   rejects that caller's wait (AgentError ABORTED) without disturbing the others.
 * - `slowDown(factor)` after a ThrottlingException: the rate drops to `rate·factor` (not below
 *   `minRatePerSecond`) and the saved burst is dropped, since the service just said the budget is
 *   spent. The rate then climbs back linearly, regaining the configured rate over `recoveryMs` from
 *   zero (half of that after one halving) — additive increase, multiplicative decrease.
 *   Several throttled replies to requests that were in flight together arrive together: slowDown
 *   calls within `coalesceMs` of the last one count once, so four parallel 429s halve the rate once,
 *   not four times.
 * Tokens are computed lazily from the clock (the integral of the rate since the last look); a
 * single scheduler timer exists only while someone waits.
 */
import { AgentError } from '../errors.js';
import { onAbort } from './abort.js';
import type { Clock } from './clock.js';
import { unrefTimer, type Scheduler, type TimerHandle } from './scheduler.js';

export interface TokenBucketOptions {
  ratePerSecond: number;
  burst: number;
  clock: Clock;
  scheduler: Scheduler;
  /** Floor for slowDown(). Default: ratePerSecond / 16. */
  minRatePerSecond?: number;
  /** Time to regain the full rate from zero. Default 60 000 ms. */
  recoveryMs?: number;
  /** slowDown() calls closer together than this count once. Default 1 000 ms. */
  coalesceMs?: number;
  /** Let the process exit while someone waits. Default false. */
  unref?: boolean;
}

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
  unsubscribe: (() => void) | undefined;
}

const EPSILON = 1e-9;

export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly minRate: number;
  private readonly slope: number; // tokens/s gained per ms of recovery
  private readonly coalesceMs: number;
  private readonly unref: boolean;

  private tokens: number;
  private last: number;
  /** Rate at `rampStart`; it grows by `slope` per ms until it reaches ratePerSecond. */
  private rampRate: number;
  private rampStart: number;
  private lastSlowDown = -Infinity;
  private readonly waiters: Waiter[] = [];
  private timer: TimerHandle | undefined;

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0)) throw new AgentError('ARGUMENT_INVALID', `token bucket rate must be positive, got ${options.ratePerSecond}`);
    if (!(options.burst >= 1)) throw new AgentError('ARGUMENT_INVALID', `token bucket burst must be at least 1, got ${options.burst}`);
    this.ratePerSecond = options.ratePerSecond;
    this.burst = options.burst;
    this.clock = options.clock;
    this.scheduler = options.scheduler;
    this.minRate = Math.min(options.minRatePerSecond ?? options.ratePerSecond / 16, options.ratePerSecond);
    this.slope = options.ratePerSecond / (options.recoveryMs ?? 60_000);
    this.coalesceMs = options.coalesceMs ?? 1_000;
    this.unref = options.unref ?? false;
    this.tokens = options.burst;
    this.last = this.clock.now();
    this.rampRate = options.ratePerSecond;
    this.rampStart = this.last;
  }

  /** The current rate in tokens per second. */
  get rate(): number {
    return this.rateAt(this.clock.now());
  }

  /** Whole tokens available now. */
  get available(): number {
    this.refill();
    return Math.floor(this.tokens + EPSILON);
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Takes a token if one is free and nobody is queued before us. */
  tryTake(): boolean {
    this.refill();
    if (this.waiters.length > 0 || this.tokens < 1 - EPSILON) return false;
    this.tokens = Math.max(0, this.tokens - 1);
    return true;
  }

  take(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(aborted(signal));
    if (this.tryTake()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, unsubscribe: undefined };
      if (signal) {
        waiter.unsubscribe = onAbort(signal, () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(aborted(signal));
          this.pump();
        });
      }
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** After a throttled reply: cut the rate by `factor` (0 < factor < 1) and drop the saved burst. */
  slowDown(factor = 0.5): void {
    const now = this.clock.now();
    this.refill();
    if (now - this.lastSlowDown < this.coalesceMs) return;
    this.lastSlowDown = now;
    const f = Math.min(Math.max(factor, 0), 1);
    this.rampRate = Math.max(this.minRate, this.rateAt(now) * f);
    this.rampStart = now;
    this.tokens = 0;
    this.pump();
  }

  private rateAt(t: number): number {
    return Math.min(this.ratePerSecond, this.rampRate + this.slope * Math.max(0, t - this.rampStart));
  }

  private refill(): void {
    const now = this.clock.now();
    if (now <= this.last) {
      this.last = Math.min(this.last, now); // a clock stepped back: start counting from here
      return;
    }
    const a = this.last;
    const b = now;
    const rampEnd = this.rampStart + (this.ratePerSecond - this.rampRate) / this.slope;
    let gained = 0;
    const rampB = Math.min(b, rampEnd);
    if (rampB > a) gained += ((this.rateAt(a) + this.rateAt(rampB)) / 2) * ((rampB - a) / 1000);
    const flatA = Math.max(a, rampEnd);
    if (b > flatA) gained += this.ratePerSecond * ((b - flatA) / 1000);
    this.tokens = Math.min(this.burst, this.tokens + gained);
    this.last = now;
  }

  private pump(): void {
    this.refill();
    while (this.waiters.length > 0 && this.tokens >= 1 - EPSILON) {
      const w = this.waiters.shift()!;
      this.tokens = Math.max(0, this.tokens - 1);
      w.unsubscribe?.();
      w.resolve();
    }
    if (this.timer !== undefined) {
      this.scheduler.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.waiters.length === 0) return;
    // the rate can only grow until the next slowDown(), which re-pumps: this wait is an upper bound
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) / this.rate) * 1000));
    this.timer = this.scheduler.setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, wait);
    if (this.unref) unrefTimer(this.timer);
  }
}

function aborted(signal: AbortSignal): AgentError {
  return new AgentError('ABORTED', 'waiting for a CreateSession slot was cancelled', { cause: signal.reason });
}
