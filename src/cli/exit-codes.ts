/** Maps an error's code to the documented exit code of its class, and formats it as one line. */
import { AgentError, type ErrorCode } from '../errors.js';
import { EXIT } from './io.js';

const CLASS: Partial<Record<ErrorCode, number>> = {
  ACCESS_DENIED: EXIT.DENIED,
  VALIDATION: EXIT.DENIED,
  RESOURCE_NOT_FOUND: EXIT.DENIED,
  CLOCK_SKEW: EXIT.DENIED,
  THROTTLED: EXIT.THROTTLED,
  SERVICE_UNAVAILABLE: EXIT.UNAVAILABLE,
  BAD_RESPONSE: EXIT.UNAVAILABLE,
  NETWORK: EXIT.UNAVAILABLE,
  TIMEOUT: EXIT.UNAVAILABLE,
  TLS: EXIT.UNAVAILABLE,
  PKCS11: EXIT.UNAVAILABLE,
  SSH_AGENT: EXIT.UNAVAILABLE,
  CREDENTIALS_FILE_LOCKED: EXIT.UNAVAILABLE,
  INTERNAL: EXIT.INTERNAL,
  ABORTED: EXIT.INTERNAL,
};

export function exitCodeFor(e: unknown): number {
  if (!(e instanceof AgentError)) return EXIT.INTERNAL;
  return exitCodeForCode(e.code);
}

export function exitCodeForCode(code: ErrorCode | string): number {
  return CLASS[code as ErrorCode] ?? EXIT.BAD_INPUT;
}

export function describeError(e: unknown): string {
  if (e instanceof AgentError) return e.describe();
  return e instanceof Error ? `unexpected error: ${e.message}` : `unexpected error: ${String(e)}`;
}
