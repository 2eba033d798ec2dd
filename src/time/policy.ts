/**
 * The agent's one retry/refresh policy, pure: after a CreateSession outcome, when is the next
 * attempt? The jobs (src/agent/job.ts) and the fleet simulation (bench/fleet.ts) both call
 * `nextAttemptAt`, so what is tested here is what runs.
 *
 * After a success: the refresh time of the profile's policy (refresh.ts `nextRefreshAt`: margin,
 * jitter, minimum use, and the spread refresh after a cold start).
 * After a failure: exponential backoff with full jitter between a floor and a ceiling —
 * - the floor is RETRY_FLOOR_MS (1 s) for a retryable failure (throttling, network, 5xx) and
 *   `slowBaseMs` (1 min) for one retrying cannot fix by itself (denied, bad certificate), so a
 *   misconfigured profile costs one call a minute or less, never a tight loop;
 * - the ceiling is min(cap, base·2^(failures−1));
 * - while the credentials in the file are still valid, neither floor nor ceiling exceeds a quarter
 *   of the time they have left (the floor never goes below 1 s): retries come sooner as expiry nears
 *   and the last minutes still see several attempts;
 * - once they have expired (or there never were any), a retryable failure's ceiling stops growing
 *   at EXPIRED_CAP_MS (5 min), so the profile comes back within minutes of an outage ending.
 * The delay is uniform between floor and ceiling.
 */
import { backoffCeiling } from './backoff.js';
import { nextRefreshAt, type RefreshPolicy } from './refresh.js';

/** No retry comes sooner than this after a failure. */
export const RETRY_FLOOR_MS = 1_000;
/** Without valid credentials, a retryable failure's backoff stops growing here. */
export const EXPIRED_CAP_MS = 5 * 60_000;

export interface RetryTuning {
  /** Retryable failures (throttling, network, 5xx). */
  baseMs: number;
  capMs: number;
  /** Failures retrying cannot fix by itself (denied, bad certificate): slower, until the input changes. */
  slowBaseMs: number;
  slowCapMs: number;
}

export const DEFAULT_TUNING: RetryTuning = { baseMs: 2_000, capMs: 5 * 60_000, slowBaseMs: 60_000, slowCapMs: 30 * 60_000 };

export type AttemptOutcome =
  | {
      kind: 'success';
      /** When the credentials were received, and their expiry (ms since the epoch). */
      issuedAt: number;
      expiresAt: number;
      /** See NextRefreshInput.spread: the first credentials the job fetched since it started (not adopted ones), or the first after the old ones ran out. */
      spread?: boolean;
    }
  | {
      kind: 'failure';
      /** Whether retrying alone can fix it (AgentError.retryable). */
      retryable: boolean;
      /** Consecutive failures, this one included (from 1). */
      failures: number;
      /** Expiry of the credentials in the file, if any (valid or not). */
      expiresAt?: number;
    };

export interface NextAttemptInput {
  outcome: AttemptOutcome;
  policy: RefreshPolicy;
  now: number;
  /** Uniform in [0, 1). */
  random: () => number;
  tuning?: RetryTuning;
}

/** The time (ms since the epoch) of the next CreateSession attempt; never before `now`. */
export function nextAttemptAt({ outcome, policy, now, random, tuning = DEFAULT_TUNING }: NextAttemptInput): number {
  if (outcome.kind === 'success') {
    return nextRefreshAt({ issuedAt: outcome.issuedAt, expiresAt: outcome.expiresAt, policy, now, random, spread: outcome.spread ?? false });
  }
  return now + retryDelay(outcome, now, random, tuning);
}

function retryDelay(f: Extract<AttemptOutcome, { kind: 'failure' }>, now: number, random: () => number, t: RetryTuning): number {
  const slow = !f.retryable;
  const base = slow ? t.slowBaseMs : t.baseMs;
  const cap = slow ? t.slowCapMs : t.capMs;
  const remaining = f.expiresAt === undefined ? -1 : f.expiresAt - now;
  let floor = slow ? t.slowBaseMs : RETRY_FLOOR_MS;
  let ceilingCap: number;
  if (remaining > 0) {
    floor = Math.max(RETRY_FLOOR_MS, Math.min(floor, remaining / 4));
    ceilingCap = Math.min(cap, remaining / 4);
  } else {
    ceilingCap = slow ? cap : Math.min(cap, EXPIRED_CAP_MS);
  }
  const ceiling = Math.max(floor, backoffCeiling(f.failures, base, ceilingCap));
  return floor + random() * (ceiling - floor);
}
