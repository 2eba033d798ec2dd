import { expect } from 'chai';
import { corpus } from './corpus.js';
import { issuesOf } from './fixtures.js';

describe('parseSchedule: bad schedules', () => {
  for (const c of corpus) {
    it(c.name, () => {
      expect(c.expected, 'a corpus entry must expect at least one issue').to.not.be.empty;
      const actual = issuesOf(c.text, { ...(c.env && { env: c.env }), ...(c.overrides && { overrides: c.overrides }) });
      expect(actual).to.deep.equal(c.expected);
    });
  }
});
