import { expect } from 'chai';
import fc from 'fast-check';
import { editCounts, editProfiles, type ProfileChange } from '../../src/credentials-file/edit.js';
import { fileArb, render } from './generated-files.js';
import { creds } from './helpers.js';

/**
 * editProfiles edits its own last result in place, checking only the sections it changes, when the
 * file's layout lets it prove that no other line reads differently (edit.ts, editInPlace). Here the
 * two ways are compared on generated files, with lines mixed in that defeat that proof (indented
 * headers and keys, continuations, [DEFAULT], a section the JavaScript SDK opens twice): the in-place
 * edit must give the same text as the whole-file edit, or fall back to it and fail the same way.
 */

/** The text, or the error's code and message. */
function outcome(fn: () => string): { text?: string; error?: string } {
  try {
    return { text: fn() };
  } catch (e) {
    return { error: `${(e as { code?: string }).code}: ${(e as Error).message}` };
  }
}

/** Forgets the last result, so that the next edit parses and checks the whole text. */
function forget(): void {
  editProfiles('[forget]\nk = v\n', []);
}

// Runs of lines mixed into a generated file, each at a random place.
const EXTRA: string[][] = [
  ['  [p0]'],
  ['\t[p1]'],
  ['  region = indented'],
  ['    continued value'],
  ['[DEFAULT]', 'output = json'],
  ['  aws_session_token = indented'],
  ['aws_security_token = stale'],
  ['[p0 ]'],
  ['[profile p1]'],
  ['# comment [p2]'],
  ['[p2] ; note'],
  [''],
  // A key with an indented run after it: botocore continues the value, the JavaScript SDK opens p0 again.
  ['region = x', '  [p0]', '  aws_session_token = sneaky'],
  ['region = x', '  [p1]', '  note = from elsewhere'],
  // A profile the first edit may leave alone, already holding our four keys.
  ['[p0]', 'aws_access_key_id = AKIDOLD', 'aws_secret_access_key = old', 'aws_session_token = old', 'x_security_token_expires = 2027-01-01T00:00:00Z'],
];

const caseArb = fileArb.chain(({ file, updates }) => {
  const pool = [...new Set([...file.sections.map((s) => s.name), ...file.missing, ...updates.map((u) => u.profile), 'p0', 'p1', 'p2'])];
  const changeArb = fc.oneof(
    { weight: 8, arbitrary: fc.tuple(fc.constantFrom(...pool), fc.nat(999)).map(([p, g]): ProfileChange => ({ profile: p, credentials: creds(p, g) })) },
    { weight: 1, arbitrary: fc.constantFrom(...pool).map((p): ProfileChange => ({ profile: p, remove: true })) },
  );
  // Mostly the profiles just written (the refresh's case), sometimes any.
  const written = [...new Set(updates.map((u) => u.profile))];
  const refreshArb = fc.tuple(fc.constantFrom(...written), fc.nat(999)).map(([p, g]): ProfileChange => ({ profile: p, credentials: creds(p, g) }));
  const batchArb = fc.array(fc.oneof({ weight: 4, arbitrary: refreshArb }, { weight: 1, arbitrary: changeArb }), { maxLength: 6 });
  return fc.record({
    file: fc.constant(file),
    updates: fc.constant(updates),
    extra: fc.array(fc.tuple(fc.nat(200), fc.constantFrom(...EXTRA)), { maxLength: 4 }),
    second: batchArb,
    third: batchArb,
  });
});

describe('editProfiles in place against the whole-file edit (property)', () => {
  it('gives the same text or the same error, for a second and a third edit of its own result', () => {
    const seen = { inPlace: 0, whole: 0, refused: 0 };
    fc.assert(
      fc.property(caseArb, ({ file, updates, extra, second, third }) => {
        const lines = render(file).whole.split(file.eol);
        for (const [at, run] of extra) lines.splice(at % (lines.length + 1), 0, ...run);
        const start = lines.join(file.eol);

        forget();
        const first = outcome(() => editProfiles(start, updates));
        if (first.text === undefined) return;
        const before = { ...editCounts };
        const fast2 = outcome(() => editProfiles(first.text!, second));
        const fast3 = fast2.text === undefined ? undefined : outcome(() => editProfiles(fast2.text!, third));
        seen.inPlace += editCounts.inPlace - before.inPlace;
        seen.whole += editCounts.whole - before.whole;

        forget();
        const whole2 = outcome(() => editProfiles(first.text!, second));
        expect(fast2, 'the second edit').to.deep.equal(whole2);
        if (whole2.error) seen.refused++;
        if (whole2.text === undefined) return;
        forget();
        const whole3 = outcome(() => editProfiles(whole2.text!, third));
        expect(fast3, 'the third edit').to.deep.equal(whole3);
        if (whole3.error) seen.refused++;
      }),
      { numRuns: 1500 },
    );
    // Counted so the test fails if the cases stop reaching either way.
    expect(seen.inPlace, 'edits made in place').to.be.greaterThan(700);
    expect(seen.whole, 'edits that fell back to the whole file').to.be.greaterThan(250);
    expect(seen.refused, 'edits refused').to.be.greaterThan(5);
  });
});
