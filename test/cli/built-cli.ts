/**
 * The built CLI (`dist/src/main.js`) for tests that run it as a child process: builds it once when
 * it is missing or older than a source file (`npm test` has built it already in pretest), and runs
 * it with exactly the environment given, so nothing from this machine's AWS_* variables leaks in.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = join(ROOT, 'dist', 'src', 'main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** The bundle of `credential-process` that main.js runs (packaging/bundle.mjs, the build's last step). */
export const CREDENTIAL_PROCESS_BUNDLE = join(ROOT, 'dist', 'src', 'bundle', 'credential-process.js');

/**
 * Builds dist/ as `npm run build` does (tsc, then the bundle) when main.js or the bundle is missing
 * or stale. Takes ~10 s when it must.
 */
export function ensureBuilt(): void {
  // tsc -b rewrites (or touches) its build info on every build that saw a change, while it leaves
  // the outputs of unchanged files alone: the build info's time is the build's time.
  const info = join(ROOT, 'dist', 'src.tsbuildinfo');
  const compiled = existsSync(MAIN) && existsSync(info) && statSync(info).mtimeMs >= newestMtime(join(ROOT, 'src'));
  if (compiled && existsSync(CREDENTIAL_PROCESS_BUNDLE) && statSync(CREDENTIAL_PROCESS_BUNDLE).mtimeMs >= statSync(info).mtimeMs) return;
  const step = (what: string, args: string[]) => {
    try {
      execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'pipe' });
    } catch (e) {
      const out = (e as { stdout?: Buffer; stderr?: Buffer }).stdout?.toString() || (e as { stderr?: Buffer }).stderr?.toString() || '';
      throw new Error(`building ${MAIN} (${what}) failed:\n${out || (e as Error).message}`);
    }
  };
  if (!compiled) step('tsc', [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', join(ROOT, 'tsconfig.build.json')]);
  step('packaging/bundle.mjs', [join(ROOT, 'packaging', 'bundle.mjs')]);
  if (!existsSync(MAIN)) throw new Error(`tsc ran but ${MAIN} is still missing`);
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `file args` asynchronously (an in-process emulator must keep answering while it runs) with
 * `env` as the whole environment.
 */
export function runChild(file: string, args: string[], env: NodeJS.ProcessEnv, o: { cwd?: string; timeoutMs?: number } = {}): Promise<ChildResult> {
  return new Promise((resolvePromise) => {
    execFile(file, args, { env, cwd: o.cwd ?? ROOT, timeout: o.timeoutMs ?? 20_000, encoding: 'utf8', maxBuffer: 4 << 20 }, (error, stdout, stderr) => {
      const e = error as (Error & { code?: number | string; signal?: NodeJS.Signals }) | null;
      resolvePromise({
        code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        signal: e?.signal ?? null,
        stdout,
        stderr,
      });
    });
  });
}

/** `node dist/src/main.js args` with only PATH (and what `env` adds) in its environment. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  return runChild(process.execPath, [MAIN, ...args], { PATH: process.env['PATH'], ...env });
}
