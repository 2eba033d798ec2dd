/**
 * Keeps secrets out of every log line: values the agent has seen (issued secret keys, session
 * tokens, key passwords, PINs) are registered and masked wherever they appear, and anything shaped
 * like a credential assignment or a PEM private key is masked even if it was never registered.
 */
import { mask } from '../credentials.js';

const ASSIGNMENT =
  /((?:aws_secret_access_key|aws_session_token|aws_security_token|secretaccesskey|sessiontoken|secret_access_key|session_token|password|passphrase|pin|pin-value)["']?\s*[:=]\s*["']?)([^\s"',;}]{4,})/gi;
const PEM_KEY = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g;

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a value that must never be printed; short values are ignored (too many false hits). */
  add(secret: string | undefined): void {
    if (secret && secret.length >= 6) this.secrets.add(secret);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(mask(s));
    out = out.replace(PEM_KEY, '[REDACTED PRIVATE KEY]');
    return out.replace(ASSIGNMENT, (_m, k: string, v: string) => `${k}${mask(v)}`);
  }

  /** Deep copy of a log record with every string redacted. */
  redactValue(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (depth > 6 || value === null || typeof value !== 'object') return value;
    if (value instanceof Error) return this.redact(value.message);
    if (Array.isArray(value)) return value.map((v) => this.redactValue(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.redactValue(v, depth + 1);
    return out;
  }
}
