/**
 * Benchmark of the credentials-file writer: rewriting a 1,000-profile file (realistic session tokens,
 * about 1 MiB) with one profile changed, and with all 1,000 changed in one batch. Reports the median
 * of N runs in milliseconds, for the whole atomic replace (lock, read, edit, verify, temp file, fsync,
 * rename, directory fsync) and for the pure edit alone.
 *
 * Then the CPU (all threads) of a replace with one profile changed in files of 10, 100 and 1000
 * profiles, which is what one refresh costs the agent on top of its CreateSession call when
 * refreshes come one at a time (a fleet's steady state; a burst shares one replace among many),
 * beside the floor of any atomic replace: the same system calls made directly (temp file created
 * exclusively, written, fsynced, closed, renamed over the file, directory fsynced), no lock, no
 * read, no edit. Run it as the agent runs, without TurboFan:
 *
 *   node --no-turbofan --import tsx bench/credentials-file.ts [runs]
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, mkdtempSync, openSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
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

  // One refresh at a time: CPU of a replace with one profile changed, by file size.
  const cpu: string[] = ['', `CPU per replace, 1 profile changed (all threads, median of ${RUNS * 3})`, '', '| profiles in the file | file | the agent\'s replace | the system calls alone |', '|---:|---:|---:|---:|'];
  for (const n of [10, 100, 1000]) {
    const f = join(dir, `credentials-${n}`);
    writeFileSync(f, editProfiles(header, batch(0, names.slice(0, n))), { mode: 0o600 });
    const bytes = statSync(f).size;
    const cpuOf = async (fn: () => unknown): Promise<number> => {
      for (let i = 0; i < 5; i++) await fn();
      const xs: number[] = [];
      for (let i = 0; i < RUNS * 3; i++) {
        const t = process.cpuUsage();
        await fn();
        const u = process.cpuUsage(t);
        xs.push((u.user + u.system) / 1000);
      }
      return median(xs);
    };
    let g = 1;
    const agentMs = await cpuOf(() => replaceProfiles(f, batch(g++, [names[(g * 37) % n]!])));
    const data = Buffer.alloc(bytes, 0x61);
    const bare = join(dir, `bare-${n}`);
    const floorMs = await cpuOf(() => {
      const temp = `${bare}.tmp`;
      const fd = openSync(temp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
      writeSync(fd, data);
      fsyncSync(fd);
      closeSync(fd);
      renameSync(temp, bare);
      const d = openSync(dir, constants.O_RDONLY);
      fsyncSync(d);
      closeSync(d);
    });
    cpu.push(`| ${n} | ${(bytes / 1024).toFixed(0)} KiB | ${agentMs.toFixed(2)} ms | ${floorMs.toFixed(2)} ms |`);
  }
  process.stdout.write(`${cpu.join('\n')}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
