import { expect } from 'chai';
import { backoffCeiling } from '../../src/time/backoff.js';

/** Full jitter under the ceiling, as the client and policy.ts draw it. */
const fullJitter = (attempt: number, random: number) => random * backoffCeiling(attempt, 1_000, 30_000);

describe('backoffCeiling', () => {
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
      expect(fullJitter(row.attempt, row.random)).to.equal(row.expected);
    });
  }

  it('ceilings grow as 1, 2, 4, 8, 16 then stay at the cap of 30 seconds', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffCeiling(a, 1_000, 30_000))).to.deep.equal([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });
});
