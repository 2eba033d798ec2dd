/**
 * What the packaging tests share: running shell scripts with exactly the environment given, fake
 * system tools (systemctl, useradd, launchctl…) that only record how they were called, and a PATH
 * without Node.js for the "no node" case.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../cli/built-cli.js';

export { ROOT };
export const INSTALL_SH = join(ROOT, 'install.sh');

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `file args` with `env` as the whole environment (PATH included). */
export function runScript(file: string, args: string[], env: NodeJS.ProcessEnv, o: { cwd?: string; timeoutMs?: number } = {}): Promise<ScriptResult> {
  return new Promise((resolve) => {
    execFile(file, args, { env, cwd: o.cwd ?? ROOT, timeout: o.timeoutMs ?? 60_000, encoding: 'utf8', maxBuffer: 8 << 20 }, (error, stdout, stderr) => {
      const e = error as (Error & { code?: number | string }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr });
    });
  });
}

/**
 * A directory of fake tools that append "name args…" to `log` and exit with the given status
 * (default 0). Put it first on PATH.
 */
export function fakeTools(dir: string, log: string, tools: Record<string, number>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, status] of Object.entries(tools)) {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> '${log}'\nexit ${status}\n`);
    chmodSync(p, 0o755);
  }
  return dir;
}

export function calls(log: string): string[] {
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
}

/** A directory holding links to every program of the system directories except those named. */
export function pathWithout(dir: string, excluded: string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const sys of ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (!existsSync(sys)) continue;
    for (const name of readdirSync(sys)) {
      if (excluded.includes(name) || existsSync(join(dir, name))) continue;
      symlinkSync(join(sys, name), join(dir, name));
    }
  }
  return dir;
}

/** The system PATH (no user tool directories) after `first`. */
export function systemPath(...first: string[]): string {
  return [...first, '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');
}

export function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** `systemd-analyze verify` output (warnings included) for unit files; empty means clean. */
export function verifyUnits(files: string[], user: boolean, runtimeDir: string): { code: number; output: string } {
  const args = [...(user ? ['--user'] : []), 'verify', ...files];
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', env: { PATH: systemPath(), XDG_RUNTIME_DIR: runtimeDir, SYSTEMD_LOG_COLOR: '0' } });
  return { code: r.status ?? 1, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** `systemd-analyze security --offline` exposure (0.0 best … 10.0 worst) of a system unit file. */
export function exposure(file: string): { level: number | undefined; output: string } {
  const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', file], { encoding: 'utf8', env: { PATH: systemPath(), SYSTEMD_LOG_COLOR: '0' } });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(output);
  return { level: m ? Number(m[1]) : undefined, output };
}
