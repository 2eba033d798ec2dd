import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyse, DEFAULT_SECTION, readLikeBotocore } from '../../src/credentials-file/parse.js';
import { makeTempDir } from '../helpers/tmp.js';
import { requireTools } from '../helpers/prerequisites.js';

/**
 * The agent's model of botocore (analyse + readLikeBotocore) against botocore itself, the Debian
 * python3-botocore that the AWS CLI tests use, on generated files full of what INI readers disagree
 * on: `:` and `=` separators, values with `;` and `#`, continuation lines, comments and blank lines
 * inside values, indented headers, [DEFAULT], CRLF. Not generated: a byte order mark, which the
 * model reads and botocore refuses (the agent keeps it and warns; see readers.test.ts). The model
 * may refuse more than botocore (lines the readers disagree on are refused on purpose), so the
 * property is one way:
 * - a file botocore refuses, the model refuses too;
 * - a file the model accepts, botocore reads to exactly the model's sections, keys and values.
 * All files are checked by one Python process.
 */
const PYTHON = '/usr/bin/python3';
const READ_ALL = `
import json, sys
import botocore.configloader as c
out = []
for path in json.load(sys.stdin):
    try:
        out.append({"ok": True, "sections": c.raw_config_parse(path, parse_subsections=False)})
    except Exception as e:
        out.append({"ok": False, "error": type(e).__name__})
print(json.dumps(out))
`;

const indent = fc.constantFrom('', '', '', ' ', '  ', '\t');
const header = fc
  .tuple(fc.constantFrom('', '', '', ' ', '  '), fc.constantFrom('a', 'b', 'dev', 'DEFAULT', 'default', ' a ', 'profile a', 'a]', '[a', ''), fc.constantFrom('', '', ' ; c', ' # c', 'x'))
  .map(([i, n, tail]) => `${i}[${n}]${tail}`);
const key = fc.constantFrom('aws_access_key_id', 'AWS_Access_Key_ID', 'region', 'Region', 'k', 'k k', 'a.b');
const value = fc.constantFrom('', 'v', 'AKIA123', 'a=b', 'a:b', 'v ; c', 'v # c', 'v;c', ' x ', '[z]');
const keyLine = fc.tuple(indent, key, fc.constantFrom(' = ', '=', ' =', '= ', ' : ', ':', ': '), value).map(([i, k, sep, v]) => `${i}${k}${sep}${v}`);
const continuation = fc.tuple(fc.constantFrom(' ', '  ', '\t', '    '), fc.constantFrom('more', 'k = v', '# c', '[z]', 'x:y')).map(([i, t]) => i + t);
const other = fc.constantFrom('', '', '   ', '# comment', '; comment', '  # indented', 'junk', '=v', ':v');
const line = fc.oneof({ arbitrary: header, weight: 2 }, { arbitrary: keyLine, weight: 5 }, { arbitrary: continuation, weight: 2 }, { arbitrary: other, weight: 2 });
const file = fc.tuple(fc.array(line, { maxLength: 12 }), fc.constantFrom('\n', '\r\n'), fc.boolean()).map(([lines, eol, last]) => lines.join(eol) + (last ? eol : ''));

type Reading = { ok: true; sections: Record<string, Record<string, string>> } | { ok: false; error: string };

describe('the botocore model of the credentials file against botocore', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  before(() => {
    requireTools('botocore');
    ({ dir, cleanup } = makeTempDir('ra-botomodel-'));
  });
  after(() => cleanup());

  it('refuses every generated file botocore refuses, and reads every file it accepts as botocore does', () => {
    const texts = fc.sample(file, { numRuns: 1000, seed: 20261122 });
    const paths = texts.map((t, i) => {
      const p = join(dir, `credentials-${i}`);
      writeFileSync(p, t);
      return p;
    });
    const readings = JSON.parse(execFileSync(PYTHON, ['-c', READ_ALL], { input: JSON.stringify(paths), encoding: 'utf8' })) as Reading[];
    let bothAccept = 0;
    let botocoreRefuses = 0;
    texts.forEach((text, i) => {
      const real = readings[i]!;
      const a = analyse(text);
      const accepted = a.issues.length === 0;
      if (!real.ok) {
        botocoreRefuses++;
        expect(accepted, `botocore refuses (${real.error}) but the model accepts ${JSON.stringify(text)}`).to.equal(false);
        return;
      }
      if (!accepted) return;
      bothAccept++;
      const model = Object.fromEntries([...readLikeBotocore(a)].filter(([n]) => n !== DEFAULT_SECTION).map(([n, keys]) => [n, Object.fromEntries(keys)]));
      expect(model, JSON.stringify(text)).to.deep.equal(real.sections);
    });
    // Not vacuous: both outcomes occur often.
    expect(bothAccept, 'files both accept').to.be.greaterThan(150);
    expect(botocoreRefuses, 'files botocore refuses').to.be.greaterThan(150);
  });
});
