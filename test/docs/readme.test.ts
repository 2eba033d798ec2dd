/**
 * The documentation against the code it describes, so neither drifts: the README's schedule
 * reference against the JSON Schema, its command table against src/main.ts, its exit codes against
 * EXIT, its troubleshooting table against every ErrorCode, its install options against install.sh;
 * relative links that resolve; docs/architecture.md naming every source directory; the changelog
 * naming this version.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EXIT } from '../../src/cli/io.js';
import { ROOT } from '../cli/built-cli.js';

const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');
const README = read('README.md');

/** The text right under a heading (any level), up to the next heading (of any level). */
function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^#+ /.test(l) && l.replace(/^#+ /, '') === heading);
  if (start < 0) throw new Error(`no heading "${heading}"`);
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** Body rows of every table in the text, as cells (a `\|` stays inside its cell). */
function tableRows(text: string): string[][] {
  const rows = text.split('\n').filter((l) => l.startsWith('|'));
  return rows
    .filter((l, i) => !/^\|[\s:|-]+\|$/.test(l) && !/^\|[\s:|-]+\|$/.test(rows[i + 1] ?? ''))
    .map((l) =>
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
}

const codeSpans = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

describe('README.md', () => {
  it('opens with the two commands, and package.json runs them (start → demo, test → mocha after a build)', () => {
    const firstBlock = /^# rolesanywhere-agent\n\n```sh\n([^\n]*)\n([^\n]*)\n```/.exec(README);
    expect(firstBlock, 'the title, then a sh block of two lines').to.not.equal(null);
    expect(firstBlock![1]).to.match(/^npm ci && npm start +#/);
    expect(firstBlock![2], 'installs what the tests need, then runs them').to.match(/^npm run test:setup && npm test +#/);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['start']).to.match(/node dist\/src\/main\.js demo$/);
    expect(scripts['pretest'], 'builds src (what the tests run) and typechecks src, test and bench').to.equal('npm run build && npm run typecheck');
    expect(scripts['typecheck']).to.match(/^tsc -p tsconfig\.json --noEmit\b/);
  });

  it('the schedule reference lists exactly the keys of config/schedule.schema.json', () => {
    type Node = { properties?: Record<string, Node>; $ref?: string };
    const schema = JSON.parse(read('config/schedule.schema.json')) as Node & { $defs: Record<string, Node> };
    const fromSchema = new Set<string>();
    for (const [k, v] of Object.entries(schema.properties!)) {
      fromSchema.add(k);
      for (const sub of Object.keys(v.properties ?? {})) fromSchema.add(`${k}.${sub}`);
    }
    for (const k of Object.keys(schema.$defs['profile']!.properties!)) fromSchema.add(k);
    for (const k of Object.keys(schema.$defs['refresh']!.properties!)) fromSchema.add(`refresh.${k}`);
    const documented = tableRows(section(README, 'Schedule reference')).map((r) => codeSpans(r[0]!)[0]);
    expect(documented.filter((k) => k === undefined), 'every row names its key in backticks').to.deep.equal([]);
    expect(new Set(documented).size, 'no key twice').to.equal(documented.length);
    expect([...documented].sort()).to.deep.equal([...fromSchema].sort());
  });

  it('the command table lists exactly the commands of src/main.ts', () => {
    const main = read('src/main.ts');
    const block = /const COMMANDS\b[\s\S]*?= \{\n([\s\S]*?)\n\};/.exec(main)![1]!;
    const commands = [...block.matchAll(/^ {2}'?([a-z][a-z-]*)'?: \{/gm)].map((m) => m[1]!);
    expect(commands.length, 'commands found in src/main.ts').to.be.greaterThan(5);
    const documented = tableRows(section(README, 'Commands')).map((r) => codeSpans(r[0]!)[0]?.split(' ')[0]);
    expect([...documented].sort()).to.deep.equal([...commands].sort());
  });

  it('the exit code table lists exactly the codes of EXIT, each with its meaning', () => {
    const rows = tableRows(section(README, 'Exit codes'));
    expect(rows.map((r) => Number(r[0])).sort()).to.deep.equal(Object.values(EXIT).sort());
    for (const r of rows) expect(r[1], `exit code ${r[0]}`).to.match(/\w{3}/);
  });

  it('the troubleshooting table has a row for every ErrorCode, and names no other code', () => {
    const errors = read('src/errors.ts');
    const union = /export type ErrorCode =([\s\S]*?);/.exec(errors)![1]!;
    const codes = [...union.matchAll(/\|\s*'([A-Z0-9_]+)'/g)].map((m) => m[1]!);
    expect(codes.length, 'codes found in src/errors.ts').to.be.greaterThan(10);
    const rows = tableRows(section(README, 'Troubleshooting'));
    const documented = new Set(rows.flatMap((r) => codeSpans(r[0]!)));
    for (const c of codes) expect(documented.has(c), `troubleshooting row for ${c}`).to.equal(true);
    expect([...documented].filter((c) => !codes.includes(c)), 'codes that do not exist').to.deep.equal([]);
    for (const r of rows) expect(r[2], `${r[0]}: what to do`).to.match(/\w{3}/);
  });

  it('documents every install.sh option and its exit codes as install.sh --help gives them', () => {
    const help = execFileSync('sh', [join(ROOT, 'install.sh'), '--help'], { encoding: 'utf8' });
    const options = new Set([...help.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]!));
    const install = section(README, 'Install');
    const documented = new Set(tableRows(install).map((r) => codeSpans(r[0]!)[0]!.split(' ')[0]!));
    expect([...documented].sort()).to.deep.equal([...options].sort());
    const codes = /Exit codes: (.*)\./.exec(help)![1]!.split(', ').map((c) => c.split(' ')[0]);
    for (const c of codes) expect(install, `install.sh exit code ${c}`).to.match(new RegExp(`\\b${c} [A-Za-z]`));
  });

  it('links the observability document', () => {
    expect(README).to.include('](docs/observability.md)');
  });
});

describe('relative links in the docs', () => {
  for (const doc of ['README.md', 'packaging/README.md', 'docs/architecture.md', 'docs/observability.md', 'CHANGELOG.md']) {
    it(`every relative link in ${doc} resolves`, () => {
      const links = [...read(doc).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
      const missing = links.map((l) => join(ROOT, dirname(doc), l)).filter((p) => !existsSync(p));
      expect(missing).to.deep.equal([]);
    });
  }
});

describe('docs/architecture.md', () => {
  it('names every source directory (and main.ts) in its module table', () => {
    const text = read('docs/architecture.md');
    const dirs = readdirSync(join(ROOT, 'src')).filter((d) => statSync(join(ROOT, 'src', d)).isDirectory());
    expect(dirs.length).to.be.greaterThan(5);
    for (const d of dirs) expect(text, `src/${d}/`).to.include(`| \`src/${d}/\` |`);
    expect(text).to.include('| `src/main.ts` |');
  });
});

describe('CHANGELOG.md', () => {
  it('has an Unreleased section and one for the version in package.json', () => {
    const { version } = JSON.parse(read('package.json')) as { version: string };
    const text = read('CHANGELOG.md');
    expect(text).to.match(/^## \[Unreleased\]$/m);
    expect(text).to.match(new RegExp(`^## \\[${version.replaceAll('.', '\\.')}\\]`, 'm'));
  });
});
