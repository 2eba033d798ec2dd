/**
 * When to refresh a credential: a pure function of (issued, expires, policy, now, random), in the
 * manner of cert-manager's renewal time, so that every rule below is a table test.
 *
 * before_expiry (margin M, jitter J):
 * - normally refresh at `expiresAt − M − random·J` (jitter only ever makes it earlier);
 * - when the credential is too short-lived for the margin — `M + J > lifetime − MIN_USE` (60 s), as
 *   when the service issues less than session_duration asked for — fall back to cert-manager's rule
 *   and refresh at 2/3 of the lifetime, minus up to min(J, lifetime/6) of jitter (so between 1/2
 *   and 2/3 of the lifetime);
 * cron (expression, optional time zone, jitter J):
 * - refresh at the first fire time strictly after `now`, plus `random·J` (jitter spreads agents that
 *   share a crontab, so here it delays), but never later than `expiresAt − CRON_SAFETY` (60 s): a
 *   sparse cron cannot let a credential lapse. An expression that never fires again uses that cap.
 * Both:
 * - never earlier than `issuedAt + MIN_INTERVAL` (30 s), so a service (or a skewed clock) that hands
 *   out credentials already expired cannot drive a tight refresh loop;
 * - never in the past: a time already gone returns `now` (refresh at once).
 */
import { createRequire } from 'node:module';

/**
 * cron (and luxon under it, ~2 MB of a one-profile agent's memory) loads with the first cron
 * expression, not with every schedule: synchronously, since the refresh time is computed in line.
 */
const cron = (): typeof import('cron') => createRequire(import.meta.url)('cron') as typeof import('cron');

export type RefreshPolicy =
  | { kind: 'before_expiry'; marginSeconds: number; jitterSeconds: number }
  | { kind: 'cron'; expression: string; timeZone?: string; jitterSeconds: number };

export const MIN_USE_MS = 60_000;
export const MIN_INTERVAL_MS = 30_000;
export const CRON_SAFETY_MS = 60_000;

export interface NextRefreshInput {
  /** When the credential was received (ms since the epoch, by the agent's clock). */
  issuedAt: number;
  /** Its expiration (ms since the epoch). */
  expiresAt: number;
  policy: RefreshPolicy;
  now: number;
  /** Uniform in [0, 1), e.g. Math.random; injected so tests are exact. */
  random: () => number;
}

/** The time (ms since the epoch) at which to refresh; `now` when it is already due. */
export function nextRefreshAt(input: NextRefreshInput): number {
  const { issuedAt, expiresAt, policy, now, random } = input;
  const target = policy.kind === 'cron' ? cronTarget(input, policy) : beforeExpiryTarget(issuedAt, expiresAt, policy, random);
  return Math.max(target, issuedAt + MIN_INTERVAL_MS, now);
}

function beforeExpiryTarget(
  issuedAt: number,
  expiresAt: number,
  policy: Extract<RefreshPolicy, { kind: 'before_expiry' }>,
  random: () => number,
): number {
  const lifetime = expiresAt - issuedAt;
  const margin = policy.marginSeconds * 1000;
  const jitter = policy.jitterSeconds * 1000;
  if (margin + jitter <= lifetime - MIN_USE_MS) return expiresAt - margin - random() * jitter;
  return issuedAt + (2 * lifetime) / 3 - random() * Math.min(jitter, lifetime / 6);
}

function cronTarget(input: NextRefreshInput, policy: Extract<RefreshPolicy, { kind: 'cron' }>): number {
  const cap = input.expiresAt - CRON_SAFETY_MS;
  let fire: number;
  try {
    fire = nextCronFire(policy.expression, input.now, policy.timeZone);
  } catch {
    return cap;
  }
  return Math.min(fire + input.random() * policy.jitterSeconds * 1000, cap);
}

/** The first fire time of a cron expression strictly after `after` (ms); throws a CronError if none in 8 years. */
export function nextCronFire(expression: string, after: number, timeZone?: string): number {
  const time = new (cron().CronTime)(expression, timeZone ?? null);
  return time.getNextDateFrom(new Date(after), timeZone).toMillis();
}
