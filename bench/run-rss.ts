/**
 * Peak RSS of a one-profile `run` against a bare node process (issue 17: ≤ 1.4×). Not a test.
 * The built agent (`dist/src/main.js run`, one profile, the emulator on loopback) and `node -e` that
 * waits as long, each started N times, alternated; VmHWM read from /proc 5 s after the agent's first
 * refresh. Extra node flags for the agent: RSS_NODE_FLAGS="…"; another build in the same rounds:
 * BEFORE=/path/to/old/dist/src/main.js.
 *   Run after a build:  node --import tsx bench/run-rss.ts [N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { issue, writePrivate } from '../src/pki/issue.js';

const ROOT = resolve(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist/src/main.js');
const TA = 'arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/33333333-3333-4333-8333-333333333333';
const PR = 'arn:aws:rolesanywhere:us-east-1:111122223333:profile/44444444-4444-4444-8444-444444444444';
const ROLE = 'arn:aws:iam::111122223333:role/rss';
const N = Number(process.argv[2] ?? 5);
const AFTER_MS = 5_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const hwmMb = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function waitFor<T>(fn: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms`);
    await sleep(10);
  }
}

const stop = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null ? r() : (p.once('exit', () => r()), p.kill('SIGTERM'))));

const base = mkdtempSync(join(tmpdir(), 'ra-rss-'));
try {
  const root = await issue({ name: 'rss root', kind: 'rsa', ca: true });
  const leaf = await issue({ name: 'rss leaf', kind: 'rsa', issuer: root });
  writePrivate(join(base, 'root.pem'), root.certPem);
  writePrivate(join(base, 'leaf.crt'), leaf.certPem);
  writePrivate(join(base, 'leaf.key'), leaf.keyPem);
  const emu = spawn(process.execPath, [MAIN, 'emulator', '--trust-anchor', `${TA}=${join(base, 'root.pem')}`, '--profile', PR, '--role', ROLE, '--https-port', '0', '--write-ca', join(base, 'ca.pem')], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  emu.stdout!.on('data', (d) => (out += d.toString()));
  const url = await waitFor(() => /^https (\S+)$/m.exec(out)?.[1], 20_000);

  const flags = process.env['RSS_NODE_FLAGS']?.split(' ').filter(Boolean) ?? [];
  const mains: [string, string][] = [['run', MAIN], ...(process.env['BEFORE'] ? [['before', process.env['BEFORE']] as [string, string]] : [])];
  const results = new Map<string, number[]>([['node', []], ...mains.map(([k]) => [k, []] as [string, number[]])]);
  for (let round = 0; round < N; round++) {
    const bare = spawn(process.execPath, ['-e', `setTimeout(() => {}, ${AFTER_MS + 1000})`], { stdio: 'ignore' });
    await sleep(AFTER_MS);
    results.get('node')!.push(hwmMb(bare.pid!));
    await stop(bare);
    for (const [label, main] of mains) {
      const dir = mkdtempSync(join(base, `${label}-`));
      const file = join(dir, 'credentials');
      const config = join(dir, 'agent.yaml');
      writeFileSync(
        config,
        [
          `credentials_file: ${file}`,
          'profiles:',
          '  p0:',
          `    certificate: ${join(base, 'leaf.crt')}`,
          `    private_key: ${join(base, 'leaf.key')}`,
          `    trust_anchor_arn: ${TA}`,
          `    profile_arn: ${PR}`,
          `    role_arn: ${ROLE}`,
          `    endpoint: ${url}`,
          `    ca_bundle: ${join(base, 'ca.pem')}`,
          '',
        ].join('\n'),
      );
      const agent = spawn(process.execPath, [...(label === 'run' ? flags : []), main, 'run', '--config', config], { stdio: 'ignore' });
      await waitFor(() => {
        try {
          return readFileSync(file, 'utf8').includes('aws_session_token');
        } catch {
          return false;
        }
      }, 30_000);
      await sleep(AFTER_MS);
      results.get(label)!.push(hwmMb(agent.pid!));
      await stop(agent);
    }
  }
  await stop(emu);
  const bare = median(results.get('node')!);
  for (const [label, xs] of results) {
    console.log(`${label.padEnd(7)} VmHWM median ${median(xs).toFixed(1)} MB = ${(median(xs) / bare).toFixed(2)}× node  [${xs.map((x) => x.toFixed(1)).join(' ')}]`);
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
