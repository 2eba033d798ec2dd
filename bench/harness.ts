/**
 * What bench/agent.ts and bench/agent-in-process.ts share: the emulator on loopback with the bench's
 * ARNs, and a run of bench/floor-client.ts against it. Needs `npm run build` (the emulator is dist's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { writePrivate, type Issued } from '../src/pki/issue.js';

export const ROOT = resolve(import.meta.dirname, '..');
export const MAIN = join(ROOT, 'dist/src/main.js');
export const TA = 'arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/33333333-3333-4333-8333-333333333333';
export const PR = 'arn:aws:rolesanywhere:us-east-1:111122223333:profile/44444444-4444-4444-8444-444444444444';
export const ROLES = Array.from({ length: 10 }, (_, i) => `arn:aws:iam::111122223333:role/bench-${i}`);

export interface FloorMeasure {
  batches: number[];
  median: number;
}

/** The floor client's ways that write the credentials file also say how often they replaced it, over how many calls. */
export interface FileFloorMeasure extends FloorMeasure {
  replaces: number;
  calls: number;
}

export interface FloorResult {
  signatureMicros: number;
  https: FloorMeasure;
  raw?: FloorMeasure;
  rawUnsigned?: FloorMeasure;
  httpsFile?: FileFloorMeasure;
  lean?: FileFloorMeasure;
}

/** The emulator trusting `root` for the bench's trust anchor, profile and roles; its CA written into `dir`. */
export async function startEmulator(dir: string, root: Issued): Promise<{ url: string; ca: string; proc: ChildProcess }> {
  const rootPem = join(dir, 'root.pem');
  const ca = join(dir, 'emulator-ca.pem');
  writePrivate(rootPem, root.certPem);
  const args = [MAIN, 'emulator', '--trust-anchor', `${TA}=${rootPem}`, '--profile', PR, ...ROLES.flatMap((r) => ['--role', r]), '--https-port', '0', '--write-ca', ca];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d.toString()));
  const end = Date.now() + 20_000;
  for (;;) {
    const url = /^https (\S+)$/m.exec(out)?.[1];
    if (url) return { url, ca, proc };
    if (Date.now() > end) {
      proc.kill();
      throw new Error('the emulator did not say where it listens within 20 s');
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One run of bench/floor-client.ts in its own process against the emulator, with `args` (e.g. `--only https`) and node's `nodeFlags`. */
export async function runFloorClient(emu: { url: string; ca: string }, key: { cert: string; key: string }, args: string[] = [], nodeFlags: string[] = []): Promise<FloorResult> {
  const all = [...nodeFlags, '--import', 'tsx', join(ROOT, 'bench/floor-client.ts'), '--endpoint', emu.url, '--ca', emu.ca, '--certificate', key.cert, '--private-key', key.key, '--trust-anchor', TA, '--profile', PR, '--role', ROLES[0]!, ...args];
  const child = spawn(process.execPath, all, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  if (code !== 0) throw new Error(`bench/floor-client.ts exited with ${code}`);
  return JSON.parse(out) as FloorResult;
}
