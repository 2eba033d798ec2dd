import { expect } from 'chai';
import fc from 'fast-check';
import { MIN_MARGIN_MS, MIN_INTERVAL_MS, nextCronFire, nextRefreshAt, type RefreshPolicy } from '../../src/time/refresh.js';

const T0 = Date.UTC(2025, 0, 1, 0, 0, 0);
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const fixed = (x: number) => () => x;
const beforeExpiry = (marginSeconds: number, jitterSeconds = 0): RefreshPolicy => ({ kind: 'before_expiry', marginSeconds, jitterSeconds });
const cron = (expression: string, jitterSeconds = 0, timeZone = 'UTC'): RefreshPolicy => ({ kind: 'cron', expression, timeZone, jitterSeconds });

interface Row {
  name: string;
  issuedAt?: number;
  expiresAt: number;
  policy: RefreshPolicy;
  now?: number;
  random?: number;
  expected: number;
}

const rows: Row[] = [
  { name: 'a one-hour credential with a 15 minute margin and no jitter refreshes 15 minutes before expiry', expiresAt: T0 + H, policy: beforeExpiry(900), expected: T0 + 45 * M },
  { name: 'jitter only ever makes a before_expiry refresh earlier', expiresAt: T0 + H, policy: beforeExpiry(900, 90), random: 0.5, expected: T0 + 45 * M - 45 * S },
  { name: 'the largest jitter draw moves the refresh almost the whole jitter earlier', expiresAt: T0 + H, policy: beforeExpiry(900, 90), random: 0.999, expected: T0 + 45 * M - 89.91 * S },
  { name: 'a margin that leaves exactly one minute of use is still honoured', expiresAt: T0 + H, policy: beforeExpiry(59 * 60), expected: T0 + 1 * M },
  { name: 'a margin that leaves less than a minute of use falls back to two thirds of the lifetime', expiresAt: T0 + H, policy: beforeExpiry(59 * 60 + 1), expected: T0 + 40 * M },
  { name: 'a credential shorter than the margin refreshes at two thirds of its lifetime', expiresAt: T0 + 10 * M, policy: beforeExpiry(900), expected: T0 + 400 * S },
  { name: 'jitter in the fallback is bounded by a sixth of the lifetime so the refresh stays after half of it', expiresAt: T0 + 10 * M, policy: beforeExpiry(900, 600), random: 0.999999, expected: T0 + 400 * S - 0.999999 * 100 * S },
  { name: 'a refresh time already in the past means refresh now', expiresAt: T0 + H, policy: beforeExpiry(900), now: T0 + 50 * M, expected: T0 + 50 * M },
  { name: 'a credential that expired before it was issued (clock skew) is not refreshed sooner than 30 seconds after issue', expiresAt: T0 - H, policy: beforeExpiry(900), expected: T0 + MIN_INTERVAL_MS },
  { name: 'a cron policy refreshes at the next fire time after now', expiresAt: T0 + H, policy: cron('*/20 * * * *'), now: T0 + 5 * M, expected: T0 + 20 * M },
  { name: 'a cron policy at an exact fire time waits for the following one', expiresAt: T0 + H, policy: cron('*/20 * * * *'), now: T0 + 20 * M, expected: T0 + 40 * M },
  { name: 'cron jitter delays the fire time by a random part of the jitter', expiresAt: T0 + H, policy: cron('*/20 * * * *', 60), now: T0 + 5 * M, random: 0.5, expected: T0 + 20 * M + 30 * S },
  { name: 'a cron fire time later than a minute before expiry is pulled in to that minute', expiresAt: T0 + 10 * M, policy: cron('0 * * * *'), now: T0 + M, expected: T0 + 10 * M - MIN_MARGIN_MS },
  { name: 'a cron expression that never fires again refreshes a minute before expiry', expiresAt: T0 + H, policy: cron('0 0 31 2 *'), now: T0 + M, expected: T0 + H - MIN_MARGIN_MS },
  { name: 'a cron expression is read in its configured time zone', expiresAt: T0 + 24 * H, policy: cron('0 9 * * *', 0, 'Europe/Paris'), expected: T0 + 8 * H },
  { name: 'a cron cap that falls before the minimum interval yields to the minimum interval', expiresAt: T0 + 70 * S, policy: cron('0 * * * *'), expected: T0 + MIN_INTERVAL_MS },
];

describe('nextRefreshAt', () => {
  for (const row of rows) {
    it(row.name, () => {
      const actual = nextRefreshAt({
        issuedAt: row.issuedAt ?? T0,
        expiresAt: row.expiresAt,
        policy: row.policy,
        now: row.now ?? T0,
        random: fixed(row.random ?? 0),
      });
      expect(actual, `expected ${new Date(row.expected).toISOString()}, got ${new Date(actual).toISOString()}`).to.be.closeTo(row.expected, 0.001);
    });
  }

  it('is never before now nor sooner than 30 seconds after issue, whatever the inputs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -2 * 3600, max: 13 * 3600 }),
        fc.integer({ min: 0, max: 13 * 3600 }),
        fc.integer({ min: 0, max: 3600 }),
        fc.integer({ min: -3600, max: 13 * 3600 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (lifetimeS, marginS, jitterS, nowOffsetS, r) => {
          const now = T0 + nowOffsetS * S;
          const at = nextRefreshAt({ issuedAt: T0, expiresAt: T0 + lifetimeS * S, policy: beforeExpiry(marginS, jitterS), now, random: () => r });
          return at >= now && at >= T0 + MIN_INTERVAL_MS;
        },
      ),
    );
  });

  it('refreshes before expiry whenever the credential lives at least 90 seconds and the margin is not zero', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 90, max: 13 * 3600 }),
        fc.integer({ min: 1, max: 13 * 3600 }),
        fc.integer({ min: 0, max: 3600 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (lifetimeS, marginS, jitterS, r) => {
          const expiresAt = T0 + lifetimeS * S;
          const at = nextRefreshAt({ issuedAt: T0, expiresAt, policy: beforeExpiry(marginS, jitterS), now: T0, random: () => r });
          return at < expiresAt;
        },
      ),
    );
  });
});

describe('nextCronFire', () => {
  it('returns the first fire time strictly after the given instant', () => {
    expect(new Date(nextCronFire('*/20 * * * *', T0 + 19 * M + 59.5 * S, 'UTC')).toISOString()).to.equal('2025-01-01T00:20:00.000Z');
  });
});
