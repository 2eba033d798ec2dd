import { expect } from 'chai';
import { DEFAULT_TUNING, EXPIRED_CAP_MS, nextAttemptAt, RETRY_FLOOR_MS, type AttemptOutcome } from '../../src/time/policy.js';
import { beforeExpiryPolicy, defaultRefreshPolicy, MIN_USE_MS, nextRefreshAt, SPREAD_FROM_FRACTION, type RefreshPolicy } from '../../src/time/refresh.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const T0 = Date.UTC(2025, 0, 1);
const POLICY: RefreshPolicy = { kind: 'before_expiry', marginSeconds: 900, jitterSeconds: 0 };
const TUNING = { baseMs: 2 * S, capMs: 10 * M, slowBaseMs: M, slowCapMs: 30 * M };

const failure = (failures: number, expiresAt: number | undefined, retryable = true): AttemptOutcome => ({
  kind: 'failure',
  retryable,
  failures,
  ...(expiresAt !== undefined && { expiresAt }),
});
const delay = (outcome: AttemptOutcome, random: number, tuning = TUNING) => nextAttemptAt({ outcome, policy: POLICY, now: T0, random: () => random, tuning }) - T0;

describe('nextAttemptAt after a failure', () => {
  const rows = [
    { name: 'with hours of validity left the usual backoff applies', outcome: failure(3, T0 + 2 * H), random: 1, expected: 8 * S },
    { name: 'with 20 minutes left a late attempt waits at most 5 minutes, a quarter of what is left', outcome: failure(20, T0 + 20 * M), random: 1, expected: 5 * M },
    { name: 'with 2 minutes left no retry waits more than 30 seconds', outcome: failure(20, T0 + 2 * M), random: 1, expected: 30 * S },
    { name: 'with 2 seconds left the one-second floor wins', outcome: failure(20, T0 + 2 * S), random: 1, expected: RETRY_FLOOR_MS },
    { name: 'a zero draw still waits the one-second floor', outcome: failure(5, T0 + H), random: 0, expected: RETRY_FLOOR_MS },
    { name: 'after expiry the backoff keeps growing only up to 5 minutes', outcome: failure(30, T0 - M), random: 1, expected: EXPIRED_CAP_MS },
    { name: 'after expiry an early attempt is uniform between the floor and the exponential ceiling', outcome: failure(2, T0 - M), random: 0.5, expected: S + 0.5 * (4 * S - S) },
    { name: 'with no credentials at all a failure backs off as after expiry', outcome: failure(2, undefined), random: 0.5, expected: S + 0.5 * (4 * S - S) },
    { name: 'a failure retrying cannot fix waits at least a minute while hours are left', outcome: failure(1, T0 + 2 * H, false), random: 0, expected: M },
    { name: 'a failure retrying cannot fix grows from a minute to its own cap', outcome: failure(30, undefined, false), random: 1, expected: 30 * M },
    { name: 'a failure retrying cannot fix still waits no more than a quarter of the 2 minutes left', outcome: failure(30, T0 + 2 * M, false), random: 1, expected: 30 * S },
    { name: 'a failure retrying cannot fix with 2 seconds left still waits the one-second floor', outcome: failure(3, T0 + 2 * S, false), random: 0.5, expected: RETRY_FLOOR_MS },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(delay(row.outcome, row.random), `delay in ms`).to.be.closeTo(row.expected, 1e-6);
    });
  }

  it('retries come sooner as expiry nears', () => {
    const remaining = [60, 30, 10, 5, 2].map((m) => m * M);
    const delays = remaining.map((r) => delay(failure(30, T0 + r), 1));
    for (let i = 1; i < delays.length; i++) expect(delays[i], `delay with ${remaining[i]! / M} min left vs ${remaining[i - 1]! / M} min`).to.be.below(delays[i - 1]!);
  });

  it('whatever the draw and the failure count, a retry is never sooner than 1 s nor later than a quarter of what is left (above 4 s)', () => {
    for (const retryable of [true, false]) {
      for (const left of [5 * S, 40 * S, 3 * M, 20 * M, 3 * H]) {
        for (const failures of [1, 2, 5, 12, 100]) {
          for (const r of [0, 0.3, 0.999]) {
            const d = delay(failure(failures, T0 + left, retryable), r, DEFAULT_TUNING);
            const where = `retryable ${retryable}, ${left} ms left, failure ${failures}, draw ${r}: ${d} ms`;
            expect(d, where).to.be.at.least(RETRY_FLOOR_MS);
            expect(d, where).to.be.at.most(left / 4);
          }
        }
      }
    }
  });
});

describe('nextAttemptAt after a success', () => {
  it('is the refresh time of the policy', () => {
    const policy = beforeExpiryPolicy(900, 90);
    const at = nextAttemptAt({ outcome: { kind: 'success', issuedAt: T0, expiresAt: T0 + H }, policy, now: T0, random: () => 0.5 });
    expect(at, 'expiry − margin − half the jitter').to.equal(T0 + H - 900 * S - 45 * S);
    expect(at, 'the same as nextRefreshAt').to.equal(nextRefreshAt({ issuedAt: T0, expiresAt: T0 + H, policy, now: T0, random: () => 0.5 }));
  });

  const twelve = defaultRefreshPolicy(43_200);
  const plain = T0 + 12 * H - 15 * M; // the default refresh with a zero jitter draw
  const rows = [
    { name: 'the spread first refresh of a 12 h session with a zero draw comes at a quarter of the session', random: [0, 0], expected: T0 + 3 * H },
    { name: 'the spread first refresh with a top draw comes at the plain refresh time', random: [0, 1], expected: plain },
    { name: 'the spread first refresh with a middle draw comes halfway between', random: [0, 0.5], expected: T0 + 3 * H + (plain - T0 - 3 * H) / 2 },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const draws = [...row.random];
      const at = nextAttemptAt({ outcome: { kind: 'success', issuedAt: T0, expiresAt: T0 + 12 * H, spread: true }, policy: twelve, now: T0, random: () => draws.shift()! });
      expect(at, 'refresh time').to.equal(row.expected);
    });
  }

  it('a later refresh of the same policy is not spread: only the margin and its small jitter', () => {
    const at = nextAttemptAt({ outcome: { kind: 'success', issuedAt: T0, expiresAt: T0 + 12 * H, spread: false }, policy: twelve, now: T0, random: () => 0 });
    expect(at, 'refresh time').to.equal(plain);
  });

  it('an explicit jitter (here 0) is never spread: the user chose the timing', () => {
    const at = nextAttemptAt({ outcome: { kind: 'success', issuedAt: T0, expiresAt: T0 + H, spread: true }, policy: beforeExpiryPolicy(900, 0), now: T0, random: () => 0 });
    expect(at, 'refresh time').to.equal(T0 + H - 900 * S);
  });

  it('a spread refresh still leaves every short credential at least the minimum use', () => {
    for (const lifetimeS of [120, 300, 900, 3600]) {
      const policy = defaultRefreshPolicy(lifetimeS);
      for (const r of [0, 0.5, 0.999]) {
        const at = nextAttemptAt({ outcome: { kind: 'success', issuedAt: T0, expiresAt: T0 + lifetimeS * S, spread: true }, policy, now: T0, random: () => r });
        expect(at - T0, `${lifetimeS} s session, draw ${r}: use before the refresh`).to.be.at.least(Math.min(MIN_USE_MS, lifetimeS * S * SPREAD_FROM_FRACTION));
        expect(at, `${lifetimeS} s session, draw ${r}: before expiry`).to.be.below(T0 + lifetimeS * S);
      }
    }
  });
});

describe('the default refresh policy', () => {
  it('refreshes min(15 min, a quarter of the session) before expiry, jitter 10% of that, the first refresh spread', () => {
    expect(defaultRefreshPolicy(3600), '1 h').to.deep.equal({ kind: 'before_expiry', marginSeconds: 900, jitterSeconds: 90, spreadFirst: true });
    expect(defaultRefreshPolicy(900), '15 min').to.deep.equal({ kind: 'before_expiry', marginSeconds: 225, jitterSeconds: 23, spreadFirst: true });
    expect(defaultRefreshPolicy(43_200), '12 h').to.deep.equal({ kind: 'before_expiry', marginSeconds: 900, jitterSeconds: 90, spreadFirst: true });
  });

  it('a fleet started in the same minute refreshes its second round over most of a 12 h session, not in the same minute', () => {
    // 1000 agents receive credentials within one minute; where do their spread first refreshes fall?
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const policy = defaultRefreshPolicy(43_200);
    const hours = new Array<number>(12).fill(0);
    for (let i = 0; i < 1000; i++) {
      const issuedAt = T0 + random() * M;
      const at = nextAttemptAt({ outcome: { kind: 'success', issuedAt, expiresAt: issuedAt + 12 * H, spread: true }, policy, now: issuedAt, random });
      hours[Math.floor((at - T0) / H)]!++;
    }
    expect(hours.slice(0, 3), 'none in the first quarter of the session').to.deep.equal([0, 0, 0]);
    for (let h = 3; h < 11; h++) expect(hours[h], `refreshes in hour ${h} (1000 over ~8.75 h: ~114)`).to.be.within(70, 160);
  });
});
