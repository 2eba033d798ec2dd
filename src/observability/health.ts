/**
 * Health of one profile, the rule behind `/healthz`, the `profile_healthy` gauge and the `healthy`
 * column of `status`: a profile is healthy when it holds credentials valid for at least its refresh
 * margin (before_expiry: the margin; cron: 60 s, the latest a cron refresh may come). The one
 * exception is a first attempt in flight at the margin (a timer refresh delayed a moment by the
 * rate limit): it stays healthy while the credentials are still valid, so a scrape landing in that
 * second does not flap. Pure: status, margin and "now" in, verdict and reason out.
 */
import type { ProfileStatus } from '../agent/agent.js';
import { formatDuration } from '../time/duration.js';
import { MIN_MARGIN_MS, type RefreshPolicy } from '../time/refresh.js';

/** The margin a cron-refreshed profile must keep (a cron refresh never comes later than this). */
export const CRON_HEALTH_MARGIN_SECONDS = MIN_MARGIN_MS / 1000;

export function healthMarginSeconds(policy: RefreshPolicy): number {
  return policy.kind === 'before_expiry' ? policy.marginSeconds : CRON_HEALTH_MARGIN_SECONDS;
}

export interface ProfileHealth {
  healthy: boolean;
  /** Why not, in words an operator can act on. */
  problem?: string;
}

function lastError(s: ProfileStatus): string {
  return s.lastError ? `; last error ${s.lastError.code}: ${s.lastError.message}` : '';
}

export function profileHealth(s: ProfileStatus | undefined, marginSeconds: number, now: number): ProfileHealth {
  if (!s) return { healthy: false, problem: 'the agent has no state for this profile (not started yet, or added to the schedule after the agent last saved its state)' };
  if (!s.expiration && s.credentialsRemoved) {
    const r = s.credentialsRemoved;
    return {
      healthy: false,
      problem: `no credentials: those of the previous identity were removed from the file at ${r.at} (${r.reason}); the refreshes for the new one failed so far (${s.consecutiveFailures})${lastError(s)}`,
    };
  }
  if (!s.expiration) {
    const why = s.lastError ? `the refreshes failed so far (${s.consecutiveFailures})${lastError(s)}` : s.inFlight ? 'the first refresh is in flight' : 'the first refresh is pending';
    return { healthy: false, problem: `no credentials yet: ${why}` };
  }
  const expires = Date.parse(s.expiration);
  const left = expires - now;
  if (left <= 0) return { healthy: false, problem: `the credentials expired at ${s.expiration} (state ${s.state}${lastError(s)})` };
  if (left >= marginSeconds * 1000) return { healthy: true };
  if (s.inFlight && s.state === 'refreshing') return { healthy: true };
  return {
    healthy: false,
    problem: `the credentials expire at ${s.expiration}, in ${formatDuration(Math.floor(left / 1000))}, within the refresh margin of ${formatDuration(marginSeconds)} (state ${s.state}${lastError(s)})`,
  };
}
