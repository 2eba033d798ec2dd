/**
 * Every schedule shown in the documentation — each ```yaml block with a top-level `profiles:` in
 * README.md, docs/*.md and packaging/**\/*.md — plus config/agent.example.yaml and the skeleton the
 * installer writes, through `validate`. What this proves, and no more: each one is a valid schedule
 * (keys, values, ARNs, URIs, no secrets), and the only problems `validate` finds on a machine
 * without the example's files are those files being absent — each reported once, never a profile
 * loaded on top of it. Key material is not checked here (the files do not exist).
 * Blocks without `profiles:` are fragments (one key shown alone) and are not schedules.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { validateCommand } from '../../src/cli/validate.js';
import { ROOT } from '../cli/built-cli.js';
import { captureIO } from '../helpers/io.js';
import { makeTempDir } from '../helpers/tmp.js';

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? markdownFiles(p) : n.endsWith('.md') ? [p] : [];
  });
}

interface Shown {
  where: string;
  text: string;
}

function documented(): Shown[] {
  const files = [join(ROOT, 'README.md'), ...markdownFiles(join(ROOT, 'docs')), ...markdownFiles(join(ROOT, 'packaging'))];
  const out: Shown[] = [];
  for (const f of files) {
    const lines = readFileSync(f, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^```ya?ml\s*$/.test(lines[i]!)) continue;
      const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
      const text = lines.slice(i + 1, end).join('\n') + '\n';
      if (/^profiles:/m.test(text)) out.push({ where: `${relative(ROOT, f)} line ${i + 1}`, text });
      i = end;
    }
  }
  return out;
}

const MISSING = /^\S+ \(line \d+:\d+\): the (certificate|private key|intermediate bundle|key password file|PKCS#11 module|PIN file|CA bundle) (\S+) does not exist — fix the path in [a-z0-9_]+:, or create the file$/;

describe('the schedules shown in the documentation', () => {
  const shown = documented();
  shown.push({ where: 'config/agent.example.yaml', text: readFileSync(join(ROOT, 'config/agent.example.yaml'), 'utf8') });
  shown.push({
    where: 'the skeleton install.sh writes (packaging/skeleton.sh)',
    text: execFileSync('sh', [join(ROOT, 'packaging/skeleton.sh'), '/var/lib/rolesanywhere-agent/credentials', '/usr/share/schema.json', 'systemctl start rolesanywhere-agent'], { encoding: 'utf8' }),
  });

  it('are found where the documentation shows them', () => {
    expect(shown.map((s) => s.where.replace(/ line \d+$/, '')).sort(), 'where schedules are shown').to.deep.equal(
      ['README.md', 'README.md', 'config/agent.example.yaml', 'docs/tpm.md', 'the skeleton install.sh writes (packaging/skeleton.sh)'].sort(),
    );
  });

  for (const s of shown) {
    it(`${s.where}: validate finds no problem but the absent example files, each once`, async () => {
      const t = makeTempDir('ra-docs-schedule-');
      try {
        const file = join(t.dir, 'schedule.yaml');
        writeFileSync(file, s.text);
        const io = captureIO({ HOME: t.dir });
        const code = await validateCommand(['--config', file], io);
        const errors = io.err().split('\n').filter(Boolean);
        const notMissing = errors.filter((l) => !MISSING.test(l));
        expect(notMissing, `problems other than absent files (stdout: ${io.out()})`).to.deep.equal([]);
        const paths = errors.map((l) => MISSING.exec(l)![2]!);
        for (const p of paths) expect(s.text, `the schedule names ${p}`).to.include(p);
        expect(new Set(paths).size, 'each absent file reported once').to.equal(paths.length);
        const summary = io.out().split('\n').filter(Boolean).pop();
        expect([code, summary], 'exit code and summary').to.deep.equal(errors.length ? [2, `${errors.length} problem(s) found`] : [0, 'valid: every profile can sign a CreateSession request']);
      } finally {
        t.cleanup();
      }
    });
  }
});
