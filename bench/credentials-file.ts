/**
 * Benchmark of the credentials-file writer: rewriting a 1,000-profile file (realistic session tokens,
 * about 1 MiB) with one profile changed, and with all 1,000 changed in one batch. Reports the median
 * of N runs in milliseconds, for the whole atomic replace (lock, read, edit, verify, temp file, fsync,
 * rename, directory fsync) and for the pure edit alone.
 *
 *   node --import tsx bench/credentials-file.ts [runs]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Credentials } from '../src/credentials.js';
import { editProfiles, type ProfileUpdate } from '../src/credentials-file/edit.js';
import { replaceProfiles } from '../src/credentials-file/replace.js';

const PROFILES = 1000;
const RUNS = Number(process.argv[2] ?? 15);

function credentials(gen: number): Credentials {
  return {
    accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    sessionToken: `IQoJb3JpZ2luX2VjE/+${randomBytes(600).toString('base64')}`,
    expiration: new Date(Date.UTC(2026, 10, 22, 1, 0, gen % 60)),
  };
}

const names = Array.from({ length: PROFILES }, (_, i) => `profile-${String(i).padStart(4, '0')}`);
const batch = (gen: number, which: string[]): ProfileUpdate[] => which.map((profile) => ({ profile, credentials: credentials(gen) }));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function time(fn: () => unknown): Promise<number[]> {
  const out: number[] = [];
  await fn(); // warm-up
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'ra-cf-bench-'));
try {
  const file = join(dir, 'credentials');
  const header = '# benchmark file\n[default]\nregion = eu-west-1\noutput = json\n\n';
  const initial = editProfiles(header, batch(0, names));
  writeFileSync(file, initial, { mode: 0o600 });
  const size = statSync(file).size;

  let gen = 1;
  const rows: [string, number[]][] = [
    ['replace, 1 profile changed', await time(() => replaceProfiles(file, batch(gen++, [names[PROFILES >> 1]!])))],
    [`replace, all ${PROFILES} changed in one batch`, await time(() => replaceProfiles(file, batch(gen++, names)))],
  ];
  const one = batch(gen++, [names[PROFILES >> 1]!]);
  const all = batch(gen++, names);
  rows.push(['edit only (pure), 1 profile', await time(() => editProfiles(initial, one))]);
  rows.push([`edit only (pure), ${PROFILES} profiles`, await time(() => editProfiles(initial, all))]);

  const out = [
    `${PROFILES} profiles, ${(size / 1024).toFixed(0)} KiB file, median of ${RUNS} runs (node ${process.version}, ${tmpdir()})`,
    '',
    '| operation | median ms | min ms | max ms |',
    '|---|---:|---:|---:|',
    ...rows.map(([name, xs]) => `| ${name} | ${median(xs).toFixed(1)} | ${Math.min(...xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
