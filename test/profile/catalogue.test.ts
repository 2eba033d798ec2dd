/**
 * The settings catalogue is the one declaration of each profile setting: the JSON Schema's profile
 * object, the README's profile table, the session flags and their --help, the library's options and
 * `import`'s flag table must all say what it says. A setting added to one and not the others fails here.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KEY_SETS } from '../../src/config/keys.js';
import { translateCommand } from '../../src/cli/import.js';
import { SESSION_FLAGS, SESSION_FLAGS_HELP } from '../../src/cli/session-flags.js';
import { PROFILE_KEYS, SETTINGS } from '../../src/config/profile/catalogue.js';
import { PROFILE_READERS } from '../../src/config/profile/readers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
type Json = Record<string, unknown>;

/** The README table row a setting's docs make. */
const readmeRow = (s: (typeof SETTINGS)[number]) => `| \`${s.key}\` | ${s.docs.value} | ${s.docs.text} |`;

describe('the settings catalogue', () => {
  it('is where PROFILE_KEYS, the validator key set and the readers come from, each key once', () => {
    const keys = SETTINGS.map((s) => s.key);
    expect(new Set(keys).size, 'keys declared once').to.equal(keys.length);
    expect([...PROFILE_KEYS]).to.deep.equal(keys);
    expect([...KEY_SETS.profile]).to.deep.equal(keys);
    expect(Object.keys(PROFILE_READERS)).to.deep.equal(keys);
  });

  it("matches config/schedule.schema.json's profile object entry for entry, in order", () => {
    const schema = JSON.parse(readFileSync(`${root}config/schedule.schema.json`, 'utf8')) as Json;
    const props = ((schema.$defs as Json).profile as Json).properties as Json;
    const expected = Object.fromEntries(SETTINGS.map((s) => [s.key, s.schema]));
    expect(Object.keys(props), 'keys in order').to.deep.equal(Object.keys(expected));
    for (const s of SETTINGS) expect(props[s.key], `schema of ${s.key} (catalogue: ${JSON.stringify(s.schema)})`).to.deep.equal(s.schema);
  });

  it("is the README's profile-settings table, row for row", () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const start = readme.indexOf('Profile keys (in a profile or in `defaults:`):');
    expect(start, 'the table heading').to.be.greaterThan(-1);
    const lines = readme.slice(start).split('\n');
    const first = lines.findIndex((l) => l.startsWith('|'));
    const end = lines.findIndex((l, i) => i > first && !l.startsWith('|'));
    const rows = lines.slice(first, end).filter((l) => l.startsWith('| `') && !/^\| `refresh\./.test(l));
    const expected = SETTINGS.map(readmeRow);
    expect(rows, `README rows; the catalogue makes:\n${expected.join('\n')}`).to.deep.equal(expected);
  });

  it('gives every flagged setting its flag in SESSION_FLAGS and a line in --help, and nothing else is there', () => {
    const flagged = SETTINGS.flatMap((s) => ('flag' in s ? [s.flag.name] : []));
    const commandOnly = ['pkcs8-password', 'debug', 'help'];
    expect(Object.keys(SESSION_FLAGS).sort()).to.deep.equal([...flagged, ...commandOnly].sort());
    for (const name of Object.keys(SESSION_FLAGS).filter((n) => n !== 'help')) {
      expect(SESSION_FLAGS_HELP, `--help mentions --${name}`).to.match(new RegExp(`^  --${name}\\b`, 'm'));
    }
    for (const s of SETTINGS) if ('flag' in s) expect((SESSION_FLAGS as Json)[s.flag.name], `--${s.flag.name}`).to.deep.equal({ type: s.flag.type });
  });

  it("lets import translate every flag of a setting into that setting's key", () => {
    for (const s of SETTINGS) {
      if (!('flag' in s)) continue;
      const value = s.flag.type === 'boolean' ? [] : [s.flag.name === 'session-duration' ? '3600' : s.flag.name === 'connect-timeout' ? '5' : '/x'];
      const t = translateCommand(['aws_signing_helper', 'credential-process', `--${s.flag.name}`, ...value]);
      expect(t.ok, `--${s.flag.name}: ${JSON.stringify(t)}`).to.equal(true);
      if (t.ok) expect(Object.keys(t.values), `--${s.flag.name}`).to.include(s.key);
    }
  });

  it('names each environment variable it declares in the README table or the --help', () => {
    for (const s of SETTINGS) {
      if (!('env' in s)) continue;
      const env = (s as { env: { name: string } }).env.name;
      const inFlagHelp = 'flag' in s && s.flag.help.includes(env);
      expect(inFlagHelp || readmeRow(s).includes(env), `${s.key} mentions ${env}`).to.equal(true);
    }
  });
});
