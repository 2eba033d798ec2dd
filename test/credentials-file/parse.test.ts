import { expect } from 'chai';
import { findIssues, parseStrict, readLikeJsSdk, readProfiles, readSections } from '../../src/credentials-file/parse.js';
import { splitLines } from '../../src/credentials-file/syntax.js';
import { catchError, expectAgentError } from './helpers.js';

const plain = (m: ReadonlyMap<string, { value: string }>): Record<string, string> => Object.fromEntries([...m].map(([k, v]) => [k, v.value]));

describe('parseStrict', () => {
  it('returns sections and lower-cased keys as botocore reads them', () => {
    const f = parseStrict('# c\r\n[a] ; note\r\nRegion : eu-west-1 \r\nk=v=w\r\n\r\n[ b ]\r\n  x = 1\r\n');
    expect([...f.sections.keys()]).to.deep.equal(['a', ' b ']);
    expect(plain(f.sections.get('a')!.keys)).to.deep.equal({ region: 'eu-west-1', k: 'v=w' });
    expect(plain(f.sections.get(' b ')!.keys)).to.deep.equal({ x: '1' });
    expect(f.sections.get('a')!.line).to.equal(2);
  });

  it('joins continuation lines to their value with newlines, keeping blank lines between and skipping comments', () => {
    const f = parseStrict('[a]\nk = one\n  two\n\n# c\n  three\nz = 1\n');
    expect(plain(f.sections.get('a')!.keys)).to.deep.equal({ k: 'one\ntwo\n\nthree', z: '1' });
  });

  it('reports every duplicate section and key with its line and the first occurrence', () => {
    const e = catchError(() => parseStrict('[a]\nk = 1\nK = 2\n[b]\n[a]\n'));
    expectAgentError(e, 'CREDENTIALS_FILE_DUPLICATE', 'line 3', 'first on line 2', 'line 5', 'first on line 1');
  });

  it('refuses a file that starts with a byte order mark, which botocore cannot read, and says how to remove it', () => {
    const e = catchError(() => parseStrict('\uFEFF[a]\nk = v\n'));
    expectAgentError(e, 'CREDENTIALS_FILE', 'line 1: the file starts with a UTF-8 byte order mark (U+FEFF)', 'botocore', "sed -i '1s/^\\xEF\\xBB\\xBF//'");
  });

  for (const [name, ch] of [
    ['U+FEFF (JavaScript trims it, botocore keeps it)', '\uFEFF'],
    ['U+0085 (botocore trims it, JavaScript keeps it)', '\u0085'],
  ] as const) {
    for (const [where, line] of [
      ['before a key', `${ch}aws_access_key_id = AKIAEXAMPLE`],
      ['after a value', `aws_access_key_id = AKIAEXAMPLE${ch}`],
      ['before a header', `${ch}[b]`],
    ] as const) {
      it(`treats ${name} ${where} as a malformed line, never as the key`, () => {
        const text = `[a]\nregion = x\n${line}\n`;
        const issues = findIssues(text);
        expect(issues.map((i) => [i.kind, i.line]), 'issues').to.deep.equal([['malformed', 3]]);
        expect(issues[0]!.message, 'message').to.match(/^line 3 holds U\+(FEFF|0085)/);
        expect(issues[0]!.message, 'the line is not quoted').not.to.contain('AKIAEXAMPLE');
      });
    }
  }

  it('reports a malformed line and a key before the first header under CREDENTIALS_FILE', () => {
    const issues = findIssues('k = v\n[a]\njunk\n[oops\n= v\n');
    expect(issues.map((i) => [i.kind, i.line])).to.deep.equal([
      ['before-header', 1],
      ['malformed', 3],
      ['malformed', 4],
      ['malformed', 5],
    ]);
    expectAgentError(catchError(() => parseStrict('k = v\n[a]\n')), 'CREDENTIALS_FILE', 'line 1');
  });

  it('accepts an empty file and a file of comments only', () => {
    expect(parseStrict('').sections.size).to.equal(0);
    expect(parseStrict('# a\n\n; b').sections.size).to.equal(0);
  });
});

describe('readProfiles', () => {
  it('reads a file parseStrict refuses, the first of repeated keys winning and malformed lines skipped', () => {
    const p = readProfiles('junk\n[a]\nk = 1\nk = 2\nbad line\n[a]\nz = 3\n');
    expect(Object.fromEntries(p.get('a')!)).to.deep.equal({ k: '1', z: '3' });
  });
});

describe('readSections', () => {
  const text = '[profile app] (managed)\nk = 1\nk = 2\n[profile app] (managed)\nbell = \u0007\n';

  it('config dialect (the AWS config file, for import): a header runs to the last "]", control characters are text, repeats are kept in order', () => {
    const s = readSections(text, 'config');
    expect(s.map((x) => [x.name, x.line, plain(x.keys)])).to.deep.equal([
      ['profile app', 1, { k: '1' }],
      ['profile app', 4, { bell: '\u0007' }],
    ]);
  });

  it('credentials dialect: the same lines are malformed, so no section is read from them', () => {
    expect(readSections(text).map((x) => x.name)).to.deep.equal([]);
    expect(findIssues(text).map((i) => i.line), 'lines refused').to.deep.equal([1, 2, 3, 4, 5]);
  });
});

describe('readLikeJsSdk', () => {
  it('keeps key case, ignores ":" lines, cuts inline comments and reads sub-sections under an empty value', () => {
    const m = readLikeJsSdk('[a] # c\nKey = v #cut\nother: x\ns3 =\n  addressing_style = path\nz = 1\n[x y]\nq = 1\n');
    expect(Object.fromEntries(m.get('a')!)).to.deep.equal({ Key: 'v', 's3.addressing_style': 'path', z: '1' });
    expect(m.has('x y'), 'a [x y] section is dropped').to.equal(false);
  });
});

describe('splitLines', () => {
  it('keeps each terminator with its line and reports the file style, final newline and byte order mark', () => {
    const s = splitLines('\uFEFFa\r\nb\nc');
    expect(s.bom).to.equal(true);
    expect(s.eol).to.equal('\r\n');
    expect(s.finalNewline).to.equal(false);
    expect(s.lines.map((l) => [l.text, l.eol])).to.deep.equal([
      ['a', '\r\n'],
      ['b', '\n'],
      ['c', ''],
    ]);
  });
});
