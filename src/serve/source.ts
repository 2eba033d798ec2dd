/**
 * What the endpoints serve: the agent's own in-memory credentials, the very ones the credentials
 * file was last written with (Job.cached), looked up per request so a refresh or a rotation shows
 * at once. A lookup never starts a CreateSession. Credentials that are missing or expired are an
 * `unavailable` answer with the reason, never a success. The JSON bodies are rendered once per
 * credential set (a WeakMap keyed by the Credentials object, which each refresh replaces).
 */
import type { Credentials } from '../credentials.js';
import type { JobSnapshot } from '../agent/job.js';
import type { Clock } from '../time/clock.js';

/** The slice of the Agent the endpoints read (Agent.cached). */
export interface CredentialCache {
  cached(name: string): { current: { credentials: Credentials; issuedAt: number } | undefined; snapshot: () => JobSnapshot } | undefined;
}

export type Lookup =
  | { kind: 'ok'; credentials: Credentials; issuedAt: number; accountId: string | undefined }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'unknown' };

export interface SourceDeps {
  cache: CredentialCache;
  clock: Clock;
  /** The account of a profile's role (for AccountId), if known. */
  accountOf(profile: string): string | undefined;
  /** Masks anything secret that could sit in an error message. */
  redact?(text: string): string;
}

/** ISO 8601 without milliseconds, as the ECS and EC2 metadata services write times. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class CredentialSource {
  private readonly bodies = new WeakMap<Credentials, { ecs?: string; imds?: string }>();

  constructor(private readonly deps: SourceDeps) {}

  lookup(profile: string): Lookup {
    const entry = this.deps.cache.cached(profile);
    if (!entry) return { kind: 'unknown' };
    const cur = entry.current;
    const now = this.deps.clock.now();
    if (cur && cur.credentials.expiration.getTime() > now) {
      return { kind: 'ok', credentials: cur.credentials, issuedAt: cur.issuedAt, accountId: this.deps.accountOf(profile) };
    }
    return { kind: 'unavailable', reason: this.reason(profile, entry.snapshot(), cur?.credentials.expiration) };
  }

  /** The ECS container-credentials document. */
  ecsBody(hit: Extract<Lookup, { kind: 'ok' }>): string {
    const slot = this.slot(hit.credentials);
    return (slot.ecs ??= JSON.stringify({
      AccessKeyId: hit.credentials.accessKeyId,
      SecretAccessKey: hit.credentials.secretAccessKey,
      Token: hit.credentials.sessionToken,
      Expiration: isoSeconds(hit.credentials.expiration.getTime()),
      ...(hit.accountId && { AccountId: hit.accountId }),
    }));
  }

  /** The EC2 instance-metadata security-credentials document. */
  imdsBody(hit: Extract<Lookup, { kind: 'ok' }>): string {
    const slot = this.slot(hit.credentials);
    return (slot.imds ??= JSON.stringify({
      Code: 'Success',
      LastUpdated: isoSeconds(hit.issuedAt),
      Type: 'AWS-HMAC',
      AccessKeyId: hit.credentials.accessKeyId,
      SecretAccessKey: hit.credentials.secretAccessKey,
      Token: hit.credentials.sessionToken,
      Expiration: isoSeconds(hit.credentials.expiration.getTime()),
    }));
  }

  private slot(c: Credentials): { ecs?: string; imds?: string } {
    let s = this.bodies.get(c);
    if (!s) this.bodies.set(c, (s = {}));
    return s;
  }

  private reason(profile: string, s: JobSnapshot, expired: Date | undefined): string {
    const err = s.lastError ? `; last refresh failed: ${s.lastError.code}: ${s.lastError.message}` : '';
    const text = expired
      ? `profile "${profile}": its credentials expired at ${isoSeconds(expired.getTime())} and no refresh has succeeded since${err}`
      : s.state === 'stopped'
        ? `profile "${profile}" is stopped`
        : `profile "${profile}" has no credentials yet (${s.inFlight ? 'the first refresh is in flight' : 'waiting for the first refresh'})${err}`;
    return this.deps.redact ? this.deps.redact(text) : text;
  }
}
