/**
 * The one-shot timer primitive everything time-driven is built on (setTimeout/clearTimeout behind
 * an interface), so that timer queues, token buckets and backoff loops run against a fake scheduler
 * in tests instead of sleeping. Scheduler delays count on the monotonic clock, which on Linux does
 * not advance while the machine is suspended: anything that must happen at a wall-clock time also
 * compares with a Clock (see TimerQueue's watchdog).
 */

/** The largest delay Node's setTimeout honours; a longer one fires after 1 ms. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** An opaque timer handle; Node's has `unref()`, which the fake scheduler imitates. */
export type TimerHandle = unknown;

export interface Scheduler {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemScheduler: Scheduler = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Lets the process exit while this timer is pending, where the handle supports it. */
export function unrefTimer(handle: TimerHandle): void {
  const h = handle as { unref?: () => unknown } | null;
  if (h && typeof h.unref === 'function') h.unref();
}
