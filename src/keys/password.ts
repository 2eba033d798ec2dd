/**
 * Resolves a PasswordSource (inline value, environment variable or file) into the secret itself. Used
 * for encrypted PKCS#8 keys and PKCS#12 bundles, and by the PKCS#11 source for PINs. Errors name the
 * variable or file, never the secret.
 */
import { readBounded } from './bounded-read.js';
import { AgentError, type ErrorCode } from '../errors.js';
import type { PasswordSource } from './options.js';
import { envVar } from '../lookup.js';

export interface ReadPasswordOptions {
  /** What the secret is, for messages: "password" (default) or "PIN". */
  what?: string;
  /** Code for a named but missing variable; KEY_PASSWORD by default (the PKCS#11 source wants PKCS11_PIN). */
  code?: ErrorCode;
}

/**
 * The secret, or undefined when no source is configured. Exactly one of value/env/file may be set: two
 * would leave the reader guessing which one wins. A file loses one trailing newline (`echo pw > f`
 * writes one) and nothing else, since spaces may be part of a password.
 */
export async function readPassword(
  source: PasswordSource | undefined,
  env: NodeJS.ProcessEnv = process.env,
  options: ReadPasswordOptions = {},
): Promise<string | undefined> {
  if (!source) return undefined;
  const what = options.what ?? 'password';
  const code = options.code ?? 'KEY_PASSWORD';
  const given = (['value', 'env', 'file'] as const).filter((k) => source[k] !== undefined);
  if (given.length === 0) return undefined;
  if (given.length > 1) {
    throw new AgentError('ARGUMENT_INVALID', `the ${what} is given more than one way (${given.join(', ')})`, {
      hint: `keep exactly one of value, env or file for the ${what}`,
    });
  }
  if (source.value !== undefined) return source.value;
  if (source.env !== undefined) {
    const value = envVar(env, source.env);
    if (value === undefined) {
      throw new AgentError(code, `the ${what} variable ${source.env} is not set`, {
        hint: `export ${source.env} in the agent's environment (e.g. the systemd unit's Environment= or EnvironmentFile=)`,
      });
    }
    return value;
  }
  const path = source.file as string;
  let text: string;
  try {
    text = (await readBounded(path, `${what} file`)).toString('utf8');
  } catch (e) {
    if (e instanceof AgentError) throw e;
    throw new AgentError('FILE_UNREADABLE', `cannot read ${what} file ${path}: ${reason(e)}`, {
      cause: e,
      hint: 'check the path and that the agent may read it',
    });
  }
  return text.replace(/\r?\n$/, '');
}

/** A short reason for a filesystem error, without the stack or the path repeated. */
export function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return code ?? (e instanceof Error ? e.message : String(e));
  }
}
