import { loadSharedConfigFiles } from '@smithy/core/config';
import { expect } from 'chai';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLikeJsSdk } from '../../src/credentials-file/parse.js';
import { makeTempDir } from '../helpers/tmp.js';

/**
 * readLikeJsSdk is the agent's model of how the AWS SDK for JavaScript v3 reads a credentials file;
 * a candidate file is checked with it before it replaces the real one. Here the model meets the
 * SDK's own loader on generated files full of what the two could read differently: comments
 * after values and headers, ':' separators, sub-sections, typed and untyped section names, CRLF
 * and lone CR, repeated keys and sections. (Not generated: the names `__proto__` and
 * `constructor`, which the SDK refuses or mishandles.)
 */
const indent = fc.constantFrom('', '', '', ' ', '  ', '\t');
const name = fc.constantFrom('default', 'a', 'B', 'prod-1', 'x.y', 'team@corp');
const header = fc
  .tuple(
    fc.constantFrom('', '', 'profile ', 'sso-session ', 'services ', 'other ', ' '),
    name,
    fc.constantFrom('', '', ' ', "'"),
    fc.constantFrom('', '', ' # c', ';c', ' ; c'),
  )
  .map(([prefix, n, quote, comment]) => `[${prefix}${quote}${n}${quote === ' ' ? '' : quote}]${comment}`);
const key = fc.constantFrom('aws_access_key_id', 'aws_secret_access_key', 'Region', 's3', 'k', 'k k');
const value = fc.constantFrom('', '', 'v', 'AKIA123', 'a=b', 'v #c', 'v#c', 'v ;c', 'v;c', 'x y', '"q"', ' spaced ', '#');
const keyLine = fc
  .tuple(indent, key, fc.constantFrom(' = ', '=', ' =', '= ', ': ', ' '), value)
  .map(([i, k, sep, v]) => `${i}${k}${sep}${v}`);
const other = fc.constantFrom('', '# comment', '; comment', '  # indented', '[', ']', '=', '= v', 'junk');
const line = fc.oneof({ arbitrary: header, weight: 2 }, { arbitrary: keyLine, weight: 6 }, { arbitrary: other, weight: 2 });
const file = fc
  .tuple(fc.array(line, { maxLength: 14 }), fc.constantFrom('\n', '\r\n', 'mixed'))
  .map(([lines, eol]) => lines.map((l, i) => l + (eol === 'mixed' ? (i % 2 ? '\r\n' : '\n') : eol)).join('') + (eol === 'mixed' ? 'x = \r' : ''));

describe('readLikeJsSdk against the AWS SDK for JavaScript v3 loader', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = makeTempDir('ra-jsmodel-')));
  after(() => cleanup());

  const sdk = async (text: string): Promise<Record<string, Record<string, string>>> => {
    const path = join(dir, 'credentials');
    writeFileSync(path, text);
    const { credentialsFile } = await loadSharedConfigFiles({ filepath: path, configFilepath: join(dir, 'no-config'), ignoreCache: true });
    return credentialsFile as Record<string, Record<string, string>>;
  };
  const model = (text: string) => Object.fromEntries([...readLikeJsSdk(text)].map(([s, keys]) => [s, Object.fromEntries(keys)]));

  it('reads every generated file exactly as the SDK does', async () => {
    await fc.assert(
      fc.asyncProperty(file, async (text) => {
        expect(model(text), JSON.stringify(text)).to.deep.equal(await sdk(text));
      }),
      { numRuns: 400 },
    );
  });

  it('agrees on the cases the fast paths skip work for: no # or ; on a line, no CR in the file', async () => {
    for (const text of ['[a]\nk = v\n', '[a]\r\nk = v #c\r\n', '[a]\nk = v\rw\n', '[profile a]\nk=1\n[a]\ns3 =\n  x = 1\ny = 2\n']) {
      expect(model(text), JSON.stringify(text)).to.deep.equal(await sdk(text));
    }
  });
});
