/**
 * The one error type of the project. Every failure a user can meet is an AgentError with a stable
 * `code` (callers branch on it, never on message text), whether retrying can help, and a hint that
 * says what to do. Messages name the object (file, profile, ARN) and never contain a secret.
 */
export type ErrorCode =
  // input and configuration
  | 'CONFIG_INVALID'
  | 'ARGUMENT_INVALID'
  | 'ARN_INVALID'
  | 'CACHE_UNSAFE'
  // key material
  | 'FILE_UNREADABLE'
  | 'CERTIFICATE_INVALID'
  | 'CERTIFICATE_EXPIRED'
  | 'CERTIFICATE_NOT_YET_VALID'
  | 'CERTIFICATE_REJECTED'
  | 'CHAIN_INVALID'
  | 'KEY_INVALID'
  | 'KEY_MISMATCH'
  | 'KEY_PASSWORD'
  | 'PKCS11'
  | 'PKCS11_PIN'
  | 'PKCS11_OBJECT_NOT_FOUND'
  | 'SSH_AGENT'
  // service replies
  | 'ACCESS_DENIED'
  | 'VALIDATION'
  | 'RESOURCE_NOT_FOUND'
  | 'THROTTLED'
  | 'SERVICE_UNAVAILABLE'
  | 'BAD_RESPONSE'
  | 'CLOCK_SKEW'
  // transport
  | 'NETWORK'
  | 'TIMEOUT'
  | 'TLS'
  | 'ABORTED'
  // credentials file
  | 'CREDENTIALS_FILE'
  | 'CREDENTIALS_FILE_LOCKED'
  | 'CREDENTIALS_FILE_DUPLICATE'
  | 'CREDENTIALS_PATH_UNTRUSTED'
  | 'INTERNAL';

export interface AgentErrorOptions {
  retryable?: boolean;
  hint?: string;
  cause?: unknown;
  status?: number;
  requestId?: string;
}

/** Marks every AgentError, whichever copy of this module made it (see Symbol.hasInstance below). */
const AGENT_ERROR = Symbol.for('rolesanywhere-agent.AgentError');

export class AgentError extends Error {
  /**
   * Modules loaded lazily (key parsers by format, the credential-process signer) can end up in a
   * second module graph beside the first — a CommonJS-compiled copy under a test runner, or two
   * installed copies of the package — and then a plain prototype check calls their AgentError
   * unexpected. The brand answers for AgentError itself; subclasses keep the prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== AgentError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[AGENT_ERROR] === true;
  }

  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly hint: string | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;

  constructor(code: ErrorCode, message: string, options: AgentErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    Object.defineProperty(this, AGENT_ERROR, { value: true });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.hint = options.hint;
    this.status = options.status;
    this.requestId = options.requestId;
  }

  /** One line for a human: message, then the hint. */
  describe(): string {
    const parts = [this.message];
    if (this.requestId) parts.push(`(request id ${this.requestId})`);
    if (this.hint) parts.push(`— ${this.hint}`);
    return parts.join(' ');
  }
}

export function isAgentError(e: unknown): e is AgentError {
  return e instanceof AgentError;
}

/** Wraps anything thrown into an AgentError, keeping an AgentError as it is. */
export function toAgentError(e: unknown, code: ErrorCode = 'INTERNAL', context?: string): AgentError {
  if (e instanceof AgentError) return e;
  const text = e instanceof Error ? e.message : String(e);
  return new AgentError(code, context ? `${context}: ${text}` : text, { cause: e });
}
