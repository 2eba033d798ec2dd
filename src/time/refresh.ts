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
 *   share a crontab, so here it delays), but never later than `expiresAt − MIN_MARGIN` (60 s): a
 *   sparse cron cannot let a credential lapse. An expression that never fires again uses that cap.
 * The first refresh after a fleet-wide event (before_expiry with `spreadFirst`, and the caller says
 * `spread`: the first credentials the job fetched since it started, or the first after they had
 * run out; not credentials adopted from the file at a restart, which keep the phase they have):
 * - uniform between `issuedAt + max(MIN_USE, lifetime/4)` (or `now`, if later) and the time above. Agents started
 *   together (a cold start, the end of an outage) would otherwise keep the phase of that moment
 *   forever, since a small jitter only ever smears it; one spread refresh per start decorrelates the
 *   fleet in one cycle, and the cost is one early refresh, not an early refresh every time.
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
  | { kind: 'before_expiry'; marginSeconds: number; jitterSeconds: number; spreadFirst?: boolean }
  | { kind: 'cron'; expression: string; timeZone?: string; jitterSeconds: number };

/** A refresh leaves a fresh credential at least this much use (margin + jitter ≤ lifetime − MIN_USE). */
export const MIN_USE_MS = 60_000;
/** No refresh comes later than this before expiry: the least before_expiry, the cap of a cron refresh. */
export const MIN_MARGIN_MS = 60_000;
/** No refresh comes sooner than this after the credential was received. */
export const MIN_INTERVAL_MS = 30_000;
/** A spread first refresh comes no sooner than this fraction of the lifetime. */
export const SPREAD_FROM_FRACTION = 0.25;

/** Without `refresh:`, refresh min(15m, a quarter of the session) before expiry. */
export const DEFAULT_MARGIN_SECONDS = 900;
/** Without `jitter:`, a before_expiry refresh comes up to 10% of the margin earlier; cron has none. */
export const DEFAULT_JITTER_FRACTION = 0.1;

/**
 * A before_expiry policy; without an explicit jitter, the default one and a spread first refresh
 * (an explicit jitter, 0 included, is the user's choice of timing and is kept exactly).
 */
export function beforeExpiryPolicy(marginSeconds: number, jitterSeconds?: number): RefreshPolicy {
  if (jitterSeconds !== undefined) return { kind: 'before_expiry', marginSeconds, jitterSeconds };
  return { kind: 'before_expiry', marginSeconds, jitterSeconds: Math.round(marginSeconds * DEFAULT_JITTER_FRACTION), spreadFirst: true };
}

/** The policy without `refresh:` in the schedule. */
export function defaultRefreshPolicy(durationSeconds: number): RefreshPolicy {
  return beforeExpiryPolicy(Math.min(DEFAULT_MARGIN_SECONDS, Math.floor(durationSeconds / 4)));
}

export interface NextRefreshInput {
  /** When the credential was received (ms since the epoch, by the agent's clock). */
  issuedAt: number;
  /** Its expiration (ms since the epoch). */
  expiresAt: number;
  policy: RefreshPolicy;
  now: number;
  /** Uniform in [0, 1), e.g. Math.random; injected so tests are exact. */
  random: () => number;
  /**
   * These credentials may share their phase with many agents' (the first the job fetched since it
   * started, or the first after the old ones ran out): a policy with `spreadFirst` spreads this refresh.
   */
  spread?: boolean;
}

/** The time (ms since the epoch) at which to refresh; `now` when it is already due. */
export function nextRefreshAt(input: NextRefreshInput): number {
  const { issuedAt, expiresAt, policy, now, random } = input;
  let target = policy.kind === 'cron' ? cronTarget(input, policy) : beforeExpiryTarget(issuedAt, expiresAt, policy, random);
  if (input.spread && policy.kind === 'before_expiry' && policy.spreadFirst) {
    // From now at the earliest: an adopted credential may be past its quarter already.
    const from = Math.max(now, issuedAt + Math.max(MIN_USE_MS, (expiresAt - issuedAt) * SPREAD_FROM_FRACTION));
    if (target > from) target = from + random() * (target - from);
  }
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
  const cap = input.expiresAt - MIN_MARGIN_MS;
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
