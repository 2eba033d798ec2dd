/**
 * Exponential backoff with full jitter, pure (AWS architecture blog's "full jitter": uniform in
 * [0, min(cap, base·2^(attempt−1))]): the client's retries within one CreateSession call use
 * `backoffDelay`; the job's retries between calls use `backoffCeiling` through policy.ts.
 */

export interface BackoffInput {
  /** Failures so far, from 1. */
  attempt: number;
  baseMs: number;
  capMs: number;
  /** Uniform in [0, 1). */
  random: () => number;
}

/** The exponential ceiling for an attempt: min(cap, base·2^(attempt−1)), safe for huge attempts. */
export function backoffCeiling(attempt: number, baseMs: number, capMs: number): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // A shift where it is exact (the fleet simulation calls this millions of times; ** is slower);
  // beyond, 2^1024 is Infinity and min() then yields the cap, which is what we want.
  const factor = exponent < 31 ? 1 << exponent : 2 ** exponent;
  return Math.max(0, Math.min(capMs, baseMs * factor));
}

/** Full jitter: uniform in [0, ceiling). */
export function backoffDelay({ attempt, baseMs, capMs, random }: BackoffInput): number {
  return random() * backoffCeiling(attempt, baseMs, capMs);
}
