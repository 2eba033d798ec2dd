/**
 * The checks that need the outside world, kept apart from parseSchedule so that stays pure: do the
 * files a schedule names exist and are they readable, and are the environment variables it names
 * set. Used by `validate` and at start-up; returns issues, never throws. Key files are not parsed
 * here — that is the key sources' job.
 */
import { access, constants, stat } from 'node:fs/promises';
import { isKeyFile } from '../keys/sources/index.js';
import type { ConfigIssue } from './issues.js';
import type { ProfileKey } from './keys.js';
import type { Origin, ResolvedProfile, Schedule } from './schedule.js';
import { envVar } from '../lookup.js';

export interface InputCheckDeps {
  env: Readonly<Record<string, string | undefined>>;
  /** Resolves when `path` is a readable regular file; rejects with an errno error otherwise. */
  readableFile?: (path: string) => Promise<void>;
  /** Filled with the name of every profile that a reported file or variable belongs to. */
  affected?: Set<string>;
}

/** What is wrong with the file and how to fix it, by errno code: "create the file" only for a missing one. */
function fileProblem(code: string | undefined, e: unknown, key: string): { why: string; fix: string } {
  switch (code) {
    case 'ENOENT':
      return { why: 'does not exist', fix: `fix the path in ${key}:, or create the file` };
    case 'EACCES':
    case 'EPERM':
      return { why: 'is not readable by the agent user', fix: `let the agent's user read it (its owner, group or mode, and the directories above it), or fix the path in ${key}:` };
    case 'ENOTFILE':
      return { why: 'is not a regular file', fix: `point ${key}: at a regular file` };
    default:
      return { why: `cannot be read (${code ?? (e as Error).message})`, fix: `check the file and the path in ${key}:` };
  }
}

async function defaultReadableFile(path: string): Promise<void> {
  const s = await stat(path);
  if (!s.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTFILE' });
  await access(path, constants.R_OK);
}

const FILE_KEYS: [ProfileKey, (p: ResolvedProfile) => string | undefined, string][] = [
  ['certificate', (p) => (isKeyFile(p.certificate) ? p.certificate : undefined), 'certificate'],
  ['private_key', (p) => (isKeyFile(p.privateKey) ? p.privateKey : undefined), 'private key'],
  ['intermediates', (p) => p.intermediates, 'intermediate bundle'],
  ['private_key_password_file', (p) => p.privateKeyPasswordFile, 'key password file'],
  ['pkcs11_lib', (p) => p.pkcs11Lib, 'PKCS#11 module'],
  ['pkcs11_pin_file', (p) => p.pkcs11PinFile, 'PIN file'],
  ['ca_bundle', (p) => p.caBundle, 'CA bundle'],
];

const ENV_KEYS: [ProfileKey, (p: ResolvedProfile) => string | undefined, string][] = [
  ['private_key_password_env', (p) => p.privateKeyPasswordEnv, 'key password'],
  ['pkcs11_pin_env', (p) => p.pkcs11PinEnv, 'PIN'],
];

function located(origin: Origin | undefined, fallback: string, message: string, hint: string): ConfigIssue {
  const out: ConfigIssue = { path: origin?.path ?? fallback, message, hint };
  if (origin?.line !== undefined) {
    out.line = origin.line;
    out.column = origin.column ?? 1;
  }
  return out;
}

/** One issue per missing or unreadable file and per unset variable (a file shared by profiles is reported once). */
export async function checkScheduleInputs(schedule: Schedule, deps: InputCheckDeps): Promise<ConfigIssue[]> {
  const readable = deps.readableFile ?? defaultReadableFile;
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  const failed = new Set<string>();
  for (const profile of schedule.profiles) {
    for (const [key, pick, what] of FILE_KEYS) {
      const file = pick(profile);
      if (file === undefined) continue;
      const origin = profile.origins[key];
      const id = `${origin?.path}|${file}`;
      if (seen.has(id)) {
        if (failed.has(id)) deps.affected?.add(profile.name);
        continue;
      }
      seen.add(id);
      try {
        await readable(file);
      } catch (e) {
        const { why, fix } = fileProblem((e as NodeJS.ErrnoException).code, e, key);
        failed.add(id);
        deps.affected?.add(profile.name);
        issues.push(located(origin, `profiles.${profile.name}.${key}`, `the ${what} ${file} ${why}`, fix));
      }
    }
    for (const [key, pick, what] of ENV_KEYS) {
      const name = pick(profile);
      if (name === undefined || envVar(deps.env, name) !== undefined) continue;
      deps.affected?.add(profile.name);
      const origin = profile.origins[key];
      const id = `${origin?.path}|$${name}`;
      if (seen.has(id)) continue;
      seen.add(id);
      issues.push(located(origin, `profiles.${profile.name}.${key}`, `the ${what} variable ${name} is not set`, `set ${name} in the agent's environment (e.g. the systemd unit's EnvironmentFile)`));
    }
  }
  for (const which of ['ecs', 'imds'] as const) {
    const tls = schedule.serve?.[which]?.tls;
    for (const [key, file] of tls ? ([['certificate', tls.certificate], ['private_key', tls.privateKey]] as const) : []) {
      try {
        await readable(file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        issues.push({ path: `serve.${which}.tls.${key}`, message: `the TLS ${key === 'certificate' ? 'certificate' : 'private key'} ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (e as Error).message})`}`, hint: `fix the path in tls.${key}:, or create the file` });
      }
    }
  }
  return issues;
}
