/**
 * Where a token PIN comes from, chosen once per signer: the configured PasswordSource (flags or
 * schedule: env, file, or an inline value) first, then the URI's `pin-source=file:…`, then the URI's
 * `pin-value` (accepted with a warning). The PIN is read again at each login, so a corrected PIN
 * file is picked up without a restart. There is never a prompt: a service has no terminal, and a
 * missing PIN is an error that says how to provide one. The PIN itself never reaches a message.
 */
import { statSync } from 'node:fs';
import { readBoundedSync } from '../bounded-read.js';
import { AgentError } from '../../errors.js';
import type { PasswordSource } from '../options.js';
import type { Pkcs11Uri } from './uri.js';
import { envVar } from '../../lookup.js';

export type PinLogger = (level: 'warn' | 'info', msg: string) => void;

export const PIN_HOWTO =
  'give the PIN with pkcs11_pin_file: or pkcs11_pin_env: in the schedule, with --pkcs11-pin-file or --pkcs11-pin-env (credential-process, update; list-certs takes --pin-file or --pin-env), or with pin-source=file:/path/to/pin in the pkcs11: URI';

export interface PinSource {
  /** For messages: "file /etc/pki/pin", "environment variable TOKEN_PIN", … (never the PIN). */
  readonly description: string;
  /** True when no PIN was configured at all (protected-path tokens, or tokens without login). */
  readonly none: boolean;
  /** The PIN, read now; undefined when none is configured. */
  read(): string | undefined;
}

function trimNewline(s: string): string {
  return s.replace(/\r?\n$/, '');
}

function fileSource(path: string, origin: string, logger: PinLogger | undefined): PinSource {
  const description = `file ${path}${origin}`;
  let warned = false;
  return {
    description,
    none: false,
    read() {
      let text: string;
      try {
        if (!warned && process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
          warned = true;
          logger?.('warn', `PIN ${description} is readable by other users; chmod 600 it`);
        }
        text = readBoundedSync(path, 'PIN file').toString('utf8');
      } catch (e) {
        if (e instanceof AgentError) throw e;
        const code = (e as NodeJS.ErrnoException).code ?? 'error';
        throw new AgentError('PKCS11_PIN', `cannot read the token PIN from ${description} (${code})`, {
          hint: 'check the path and that the agent user may read it',
          cause: e,
        });
      }
      const pin = trimNewline(text);
      if (pin === '') throw new AgentError('PKCS11_PIN', `the token PIN ${description} is empty`, { hint: 'write the PIN into it' });
      return pin;
    },
  };
}

function envSource(name: string, env: NodeJS.ProcessEnv): PinSource {
  const description = `environment variable ${name}`;
  return {
    description,
    none: false,
    read() {
      const v = envVar(env, name);
      if (v === undefined || v === '') {
        throw new AgentError('PKCS11_PIN', `the token PIN ${description} is not set`, {
          hint: `export ${name} in the agent's environment (e.g. an EnvironmentFile= in its systemd unit)`,
        });
      }
      return v;
    },
  };
}

function valueSource(value: string, description: string): PinSource {
  return { description, none: false, read: () => value };
}

/** The file path a `pin-source` value names: `file:/p`, `file:///p`, `file://localhost/p` or `/p`. */
export function pinSourcePath(pinSource: string): string {
  const m = /^file:(?:\/\/(?:localhost)?)?(\/.*)$/i.exec(pinSource);
  if (m) return m[1]!;
  if (pinSource.startsWith('/')) return pinSource;
  throw new AgentError('CONFIG_INVALID', `pin-source=${pinSource.startsWith('|') ? '|…' : pinSource} is not supported: only file: sources are`, {
    hint: 'use pin-source=file:/absolute/path/to/pin-file (running a command for the PIN is not supported)',
  });
}

export interface PinChoice {
  pin?: PasswordSource | undefined;
  uri: Pkcs11Uri;
  env: NodeJS.ProcessEnv;
  logger?: PinLogger | undefined;
}

export function choosePinSource({ pin, uri, env, logger }: PinChoice): PinSource {
  const fromOptions = pin && (pin.env !== undefined || pin.file !== undefined || pin.value !== undefined);
  if (fromOptions && (uri.pinSource !== undefined || uri.pinValue !== undefined)) {
    logger?.('warn', 'both the configuration and the pkcs11: URI give a PIN; using the configuration and ignoring the URI');
  }
  if (pin?.env !== undefined) return envSource(pin.env, env);
  if (pin?.file !== undefined) return fileSource(pin.file, '', logger);
  if (pin?.value !== undefined) {
    logger?.('warn', `the token PIN is written inline in the configuration; ${PIN_HOWTO} instead`);
    return valueSource(pin.value, 'the inline PIN in the configuration');
  }
  if (uri.pinSource !== undefined) return fileSource(pinSourcePath(uri.pinSource), ' (pin-source in the URI)', logger);
  if (uri.pinValue !== undefined) {
    logger?.('warn', `the token PIN is written in the pkcs11: URI (pin-value), where anyone who can read the schedule or the process list sees it; ${PIN_HOWTO} instead`);
    return valueSource(uri.pinValue, 'pin-value in the pkcs11: URI');
  }
  return { description: 'no PIN configured', none: true, read: () => undefined };
}
