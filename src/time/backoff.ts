/**
 * Exponential backoff, pure: the ceiling of the AWS architecture blog's "full jitter" (a wait uniform
 * in [0, min(cap, base·2^(attempt−1))]). The client's retries within one CreateSession call draw
 * under it (client.ts `callRetryDelay`); the job's retries between calls use it through policy.ts.
 */

/** The exponential ceiling for an attempt: min(cap, base·2^(attempt−1)), safe for huge attempts. */
export function backoffCeiling(attempt: number, baseMs: number, capMs: number): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // A shift where it is exact (the fleet simulation calls this millions of times; ** is slower);
  // beyond, 2^1024 is Infinity and min() then yields the cap, which is what we want.
  const factor = exponent < 31 ? 1 << exponent : 2 ** exponent;
  return Math.max(0, Math.min(capMs, baseMs * factor));
}
