import { expect } from 'chai';
import { backoffCeiling, backoffDelay, EXPIRED_CAP_MS, retryDelayWhileValid, RETRY_FLOOR_MS } from '../../src/time/backoff.js';

const S = 1000;
const M = 60 * S;
const T0 = Date.UTC(2025, 0, 1);

describe('backoffDelay', () => {
  const rows = [
    { name: 'the first attempt waits up to the base delay', attempt: 1, random: 0.5, expected: 500 },
    { name: 'each further attempt doubles the ceiling', attempt: 4, random: 0.5, expected: 4_000 },
    { name: 'the ceiling stops at the cap', attempt: 10, random: 0.5, expected: 15_000 },
    { name: 'a very large attempt number still yields the cap, not Infinity or NaN', attempt: 5_000, random: 0.5, expected: 15_000 },
    { name: 'full jitter can draw zero', attempt: 3, random: 0, expected: 0 },
    { name: 'an attempt number below one is treated as the first', attempt: 0, random: 1, expected: 1_000 },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(backoffDelay({ attempt: row.attempt, baseMs: 1_000, capMs: 30_000, random: () => row.random })).to.equal(row.expected);
    });
  }

  it('ceilings grow as 1, 2, 4, 8, 16 then stay at the cap of 30 seconds', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffCeiling(a, 1_000, 30_000))).to.deep.equal([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });
});

describe('retryDelayWhileValid', () => {
  const base = { baseMs: 2 * S, capMs: 10 * M, now: T0 };
  const rows = [
    { name: 'with hours of validity left the usual backoff applies', attempt: 3, expiresAt: T0 + 2 * 3600 * S, random: 1, expected: 8 * S },
    { name: 'with 20 minutes left a late attempt waits at most 5 minutes, a quarter of what is left', attempt: 20, expiresAt: T0 + 20 * M, random: 1, expected: 5 * M },
    { name: 'with 2 minutes left no retry waits more than 30 seconds', attempt: 20, expiresAt: T0 + 2 * M, random: 1, expected: 30 * S },
    { name: 'with 2 seconds left the one-second floor wins', attempt: 20, expiresAt: T0 + 2 * S, random: 1, expected: RETRY_FLOOR_MS },
    { name: 'a zero draw still waits the one-second floor', attempt: 5, expiresAt: T0 + 3600 * S, random: 0, expected: RETRY_FLOOR_MS },
    { name: 'after expiry the backoff keeps growing only up to 5 minutes', attempt: 30, expiresAt: T0 - M, random: 1, expected: EXPIRED_CAP_MS },
    { name: 'after expiry an early attempt still uses the exponential ceiling', attempt: 2, expiresAt: T0 - M, random: 0.5, expected: S + 0.5 * (4 * S - S) },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const actual = retryDelayWhileValid({ ...base, attempt: row.attempt, expiresAt: row.expiresAt, random: () => row.random });
      expect(actual).to.be.closeTo(row.expected, 1e-6);
    });
  }

  it('retries come sooner as expiry nears', () => {
    const remaining = [60, 30, 10, 5, 2].map((m) => m * M);
    const delays = remaining.map((r) => retryDelayWhileValid({ ...base, attempt: 30, expiresAt: T0 + r, random: () => 1 }));
    for (let i = 1; i < delays.length; i++) expect(delays[i], `delay with ${remaining[i]! / M} min left vs ${remaining[i - 1]! / M} min`).to.be.below(delays[i - 1]!);
  });
});
