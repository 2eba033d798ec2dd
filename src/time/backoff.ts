/**
 * Retry delays, pure. `backoffDelay` is exponential backoff with full jitter (AWS architecture
 * blog's "full jitter": uniform in [0, min(cap, base·2^(attempt−1))]). `retryDelayWhileValid` is
 * what the agent uses after a failed refresh:
 * - while the old credentials are still valid, the ceiling is also at most a quarter of the time
 *   they have left (but at least RETRY_FLOOR_MS), so retries come sooner as expiry nears and the
 *   last few minutes still see several attempts (only in the last 4 s does the floor reach past
 *   the expiry);
 * - once they have expired, a steady backoff whose ceiling stops growing at EXPIRED_CAP_MS
 *   (5 min), so the profile comes back within minutes of an outage ending.
 * Either way the delay is at least RETRY_FLOOR_MS (1 s): no tight loop, whatever `random` returns.
 */

export const RETRY_FLOOR_MS = 1_000;
export const EXPIRED_CAP_MS = 5 * 60_000;

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
  // 2^1024 is Infinity; min() then yields the cap, which is what we want
  return Math.max(0, Math.min(capMs, baseMs * 2 ** exponent));
}

/** Full jitter: uniform in [0, ceiling). */
export function backoffDelay({ attempt, baseMs, capMs, random }: BackoffInput): number {
  return random() * backoffCeiling(attempt, baseMs, capMs);
}

export interface RetryWhileValidInput extends BackoffInput {
  now: number;
  /** Expiry of the credentials currently in the file (ms since the epoch). */
  expiresAt: number;
}

export function retryDelayWhileValid({ attempt, now, expiresAt, baseMs, capMs, random }: RetryWhileValidInput): number {
  const remaining = expiresAt - now;
  const cap = remaining > 0 ? Math.min(capMs, remaining / 4) : Math.min(capMs, EXPIRED_CAP_MS);
  const ceiling = Math.max(RETRY_FLOOR_MS, backoffCeiling(attempt, baseMs, cap));
  return RETRY_FLOOR_MS + random() * (ceiling - RETRY_FLOOR_MS);
}
