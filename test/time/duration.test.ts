import { expect } from 'chai';
import { formatDuration, parseDuration } from '../../src/time/duration.js';

describe('parseDuration', () => {
  const good: [string | number, number][] = [
    ['1h30m', 5400],
    ['1h', 3600],
    ['15m', 900],
    ['90s', 90],
    ['1h0m30s', 3630],
    ['1.5h', 5400],
    ['0.25m', 15],
    ['3600', 3600],
    [' 12h ', 43200],
    [900, 900],
    [0, 0],
  ];
  for (const [input, expected] of good) {
    it(`reads ${JSON.stringify(input)} as ${expected} seconds`, () => {
      expect(parseDuration(input)).to.equal(expected);
    });
  }
  const bad: (string | number)[] = ['', 'h', '1d', '1m1h', '1h1h', '1.5s', '-5', '5 m', '1H', 'PT1H', 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY];
  for (const input of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      expect(parseDuration(input)).to.equal(undefined);
    });
  }
});

describe('formatDuration', () => {
  const rows: [number, string][] = [
    [5400, '1h30m'],
    [90, '1m30s'],
    [0, '0s'],
    [43200, '12h'],
    [3601, '1h1s'],
  ];
  for (const [input, expected] of rows) {
    it(`writes ${input} seconds as ${expected} and reads it back`, () => {
      expect(formatDuration(input)).to.equal(expected);
      expect(parseDuration(expected)).to.equal(input);
    });
  }
});
