/**
 * One job per profile: its state, its last good credentials, and a single coalesced refresh — a
 * timer, a rotation and a manual trigger arriving together make one CreateSession call. After a
 * failure it retries with backoff and jitter while the old credentials are valid, sooner as expiry
 * nears; a failure never touches another profile's job. Expired credentials stay in the file (AWS
 * rejects them with ExpiredToken, naming the problem) and the job keeps trying. The one exception
 * is a job told that its profile's identity changed (revokeOnFailure): the old identity's keys are
 * still in the file, and its first failure removes them rather than keep a role nobody schedules.
 */
import { accessKeyHash, type Credentials } from '../credentials.js';
import { AgentError, toAgentError } from '../errors.js';
import type { Signer } from '../keys/signer.js';
import type { Log } from '../log/logger.js';
import type { JobSpec, SessionSpec } from '../config/profile/agent-profile.js';
import type { SessionResult } from '../rolesanywhere/reply.js';
import type { Clock } from '../time/clock.js';
import { DEFAULT_TUNING, nextAttemptAt, type RetryTuning } from '../time/policy.js';
import type { RefreshPolicy } from '../time/refresh.js';

export { DEFAULT_TUNING, type RetryTuning };

export type JobState = 'pending' | 'fresh' | 'refreshing' | 'backing-off' | 'failing' | 'expired' | 'stopped';

// What one profile asks of its job is declared with its builder (config/profile/agent-profile.ts).
export type { JobSpec, SessionSpec };

export interface Permit {
  release(): void;
}

export interface JobDeps {
  clock: Clock;
  log: Log;
  random: () => number;
  timers: { schedule(key: string, atMs: number, fn: () => void | Promise<void>): void; cancel(key: string): boolean };
  /** Waits for the global quota (token bucket + concurrency). */
  acquire(signal: AbortSignal): Promise<Permit>;
  /** Tells the quota that the service throttled us. */
  throttled(): void;
  signer(): Promise<Signer>;
  call(signer: Signer, session: SessionSpec, context: string, signal: AbortSignal): Promise<SessionResult>;
  write(profile: string, credentials: Credentials): Promise<void>;
  /** Takes the agent's keys out of the profile in the file. */
  remove(profile: string): Promise<void>;
  /** Called after every state change (status, metrics). */
  changed?(job: Job): void;
  /** Called once per CreateSession outcome (metrics). */
  events?: JobEvents;
}

export interface JobEvents {
  /** `result` is 'success' or the error code; `seconds` is the CreateSession call's latency. */
  refreshed?(profile: string, result: string, seconds: number): void;
  throttled?(profile: string): void;
}

export interface JobSnapshot {
  name: string;
  state: JobState;
  expiration?: string;
  issuedAt?: string;
  nextRefresh?: string;
  lastSuccess?: string;
  lastError?: { code: string; message: string; hint?: string; at: string };
  consecutiveFailures: number;
  refreshes: number;
  /** A CreateSession call is in flight. */
  inFlight: boolean;
  /** Fingerprint of the access key id last written (see accessKeyHash). */
  accessKeyHash?: string;
  specHash: string;
  /** The keys of the profile's previous identity were removed from the file: when and why. */
  credentialsRemoved?: { at: string; reason: string };
  /** Whom the credentials are for: kept in the state file so a restart sees a changed identity. */
  identity?: SessionIdentity;
}

/** What a profile's credentials are for: changing any of these is a change of identity. */
export type SessionIdentity = Pick<SessionSpec, 'roleArn' | 'profileArn' | 'trustAnchorArn'>;

/** A time as the state file writes it (a module function: see `ours` in credentials-file/edit.ts). */
function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Codes after which an automatic retry could lock a token or cannot help without a change. */
const NO_AUTO_RETRY = new Set(['PKCS11_PIN']);

export class Job {
  state: JobState = 'pending';
  private lastGood: { credentials: Credentials; issuedAt: number } | undefined;
  /** accessKeyHash of lastGood's key id, worked out once: status() asks for it every state-file write. */
  private keyHash: { accessKeyId: string; hash: string } | undefined;
  private inflight: Promise<void> | undefined;
  private again = false;
  private failures = 0;
  private refreshes = 0;
  private lastError: { error: AgentError; at: number } | undefined;
  private lastSuccess: number | undefined;
  private nextAt: number | undefined;
  private readonly abort = new AbortController();
  private expiryLogged = false;
  private busy = false;
  /** The next refresh follows the first credentials this job fetched, or the first after they ran out (policy: spread it). */
  private spreadNext = true;
  /** Why the keys in the file must go at the first failure (the identity changed), until they have. */
  private revoke: string | undefined;
  private removed: { at: number; reason: string } | undefined;

  constructor(
    public spec: JobSpec,
    private readonly deps: JobDeps,
    private readonly tuning: RetryTuning = DEFAULT_TUNING,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  private get expiryKey(): string {
    return `${this.spec.name}\0expiry`;
  }

  /** Credentials already in the file (from a previous run), adopted instead of calling at start. */
  adopt(credentials: Credentials, issuedAt: number): void {
    this.lastGood = { credentials, issuedAt };
    // Their refresh time keeps the phase they have: re-spreading every adopted credential at each
    // restart would crowd the refreshes of a restarted fleet into the hours after the restart.
    this.spreadNext = false;
    this.state = credentials.expiration.getTime() > this.deps.clock.now() ? 'fresh' : 'expired';
    this.scheduleNext();
    this.deps.changed?.(this);
  }

  /**
   * The profile's identity changed (`reason` says how): the keys in the file belong to the old one.
   * A success overwrites them; the first failure removes them, in the write that goes with it.
   */
  revokeOnFailure(reason: string): void {
    this.revoke = reason;
  }

  /** A removal still owed to an identity change, for a job that replaces this one. */
  get pendingRevoke(): string | undefined {
    return this.revoke;
  }

  /** The last good credentials, for a job that replaces this one with the same identity. */
  lastGoodCredentials(): { credentials: Credentials; issuedAt: number } | undefined {
    return this.lastGood;
  }

  /** Starts a refresh at `atMs` (staggered start) unless one is due sooner. */
  start(atMs: number): void {
    this.schedule(atMs);
  }

  /** A valid, unexpired credential set, if any. */
  current(): Credentials | undefined {
    const c = this.lastGood?.credentials;
    return c && c.expiration.getTime() > this.deps.clock.now() ? c : undefined;
  }

  /** The last good credentials (those written to the file) and when they came, even if expired; never calls AWS. */
  cached(): { credentials: Credentials; issuedAt: number } | undefined {
    return this.lastGood;
  }

  /**
   * Refreshes now; concurrent triggers share one call. A trigger that arrives while a call is in
   * flight for an older reason (e.g. a rotation mid-call) runs one more call after it.
   */
  refresh(reason: string, { queueIfBusy = false } = {}): Promise<void> {
    if (this.state === 'stopped') return Promise.resolve();
    if (this.inflight) {
      if (queueIfBusy) this.again = true;
      return this.inflight;
    }
    this.deps.timers.cancel(this.name);
    this.inflight = this.run(reason).finally(() => {
      this.inflight = undefined;
      if (this.again && this.state !== 'stopped') {
        this.again = false;
        void this.refresh('queued trigger');
      }
    });
    return this.inflight;
  }

  stop(): void {
    this.state = 'stopped';
    this.abort.abort();
    this.deps.timers.cancel(this.name);
    this.deps.timers.cancel(this.expiryKey);
    this.deps.changed?.(this);
  }

  /** Resolves when the in-flight call (if any) has settled. */
  async settled(): Promise<void> {
    await this.inflight?.catch(() => {});
  }

  snapshot(): JobSnapshot {
    const s: JobSnapshot = {
      name: this.name,
      state: this.state,
      consecutiveFailures: this.failures,
      refreshes: this.refreshes,
      inFlight: this.busy,
      specHash: this.spec.specHash,
      identity: { roleArn: this.spec.session.roleArn, profileArn: this.spec.session.profileArn, trustAnchorArn: this.spec.session.trustAnchorArn },
    };
    if (this.lastGood) {
      s.expiration = this.lastGood.credentials.expiration.toISOString();
      s.issuedAt = iso(this.lastGood.issuedAt)!;
      const { accessKeyId } = this.lastGood.credentials;
      if (this.keyHash?.accessKeyId !== accessKeyId) this.keyHash = { accessKeyId, hash: accessKeyHash(accessKeyId) };
      s.accessKeyHash = this.keyHash.hash;
    }
    if (this.nextAt !== undefined && this.state !== 'stopped') s.nextRefresh = iso(this.nextAt)!;
    if (this.lastSuccess !== undefined) s.lastSuccess = iso(this.lastSuccess)!;
    if (this.lastError) {
      s.lastError = { code: this.lastError.error.code, message: this.lastError.error.message, at: iso(this.lastError.at)! };
      if (this.lastError.error.hint) s.lastError.hint = this.lastError.error.hint;
    }
    if (this.removed) s.credentialsRemoved = { at: iso(this.removed.at)!, reason: this.removed.reason };
    return s;
  }

  private async run(reason: string): Promise<void> {
    const ctx = `profile "${this.name}"`;
    const prev = this.state;
    // A retry of a failing profile keeps showing the failure (status and health stay truthful).
    if (prev === 'pending' || prev === 'fresh') this.state = 'refreshing';
    this.busy = true;
    this.nextAt = undefined;
    this.deps.changed?.(this);
    this.deps.log.debug('refreshing', { profile: this.name, reason });
    try {
      const permit = await this.deps.acquire(this.abort.signal);
      let result: SessionResult;
      try {
        const signer = await this.deps.signer();
        const started = this.deps.clock.now();
        try {
          result = await this.deps.call(signer, this.spec.session, ctx, this.abort.signal);
          this.deps.events?.refreshed?.(this.name, 'success', (this.deps.clock.now() - started) / 1000);
        } catch (e) {
          const code = e instanceof AgentError ? e.code : 'INTERNAL';
          if (!this.abort.signal.aborted) this.deps.events?.refreshed?.(this.name, code, (this.deps.clock.now() - started) / 1000);
          throw e;
        }
      } finally {
        permit.release();
      }
      if (this.abort.signal.aborted) return;
      await this.deps.write(this.name, result.credentials);
      const now = this.deps.clock.now();
      if (!this.lastGood || this.lastGood.credentials.expiration.getTime() <= now) this.spreadNext = true;
      this.lastGood = { credentials: result.credentials, issuedAt: now };
      this.lastSuccess = now;
      this.refreshes++;
      if (this.failures > 0) this.deps.log.info('profile recovered', { profile: this.name, after_failures: this.failures });
      this.failures = 0;
      this.lastError = undefined;
      this.revoke = undefined;
      this.removed = undefined;
      this.expiryLogged = false;
      this.state = 'fresh';
      this.scheduleNext();
      this.deps.log.info('credentials refreshed', {
        profile: this.name,
        expires: result.credentials.expiration.toISOString(),
        next_refresh: new Date(this.nextAt!).toISOString(),
      });
    } catch (e) {
      if (this.abort.signal.aborted) return;
      const error = toAgentError(e, 'INTERNAL', ctx);
      await this.removeOldIdentity();
      this.fail(error);
    } finally {
      this.busy = false;
      this.deps.changed?.(this);
    }
  }

  /** After a failure of a job whose identity changed: the old identity's keys leave the file. */
  private async removeOldIdentity(): Promise<void> {
    const reason = this.revoke;
    if (!reason) return;
    try {
      await this.deps.remove(this.name);
      this.revoke = undefined;
      this.removed = { at: this.deps.clock.now(), reason };
      this.deps.log.warn('removed the credentials of the previous identity from the file', { profile: this.name, reason });
    } catch (e) {
      // The next failure tries again; a success overwrites them anyway.
      this.deps.log.error('could not remove the credentials of the previous identity from the file; trying again at the next failure', {
        profile: this.name,
        reason,
        error: e instanceof AgentError ? e.describe() : String(e),
      });
    }
  }

  private fail(error: AgentError): void {
    const now = this.deps.clock.now();
    this.failures++;
    this.lastError = { error, at: now };
    if (error.code === 'THROTTLED') {
      this.deps.throttled();
      this.deps.events?.throttled?.(this.name);
    }
    const valid = this.current();
    this.state = valid ? 'failing' : this.lastGood ? 'expired' : 'backing-off';
    if (NO_AUTO_RETRY.has(error.code)) {
      this.nextAt = undefined;
      this.deps.log.error('refresh failed; not retrying automatically (fix the input: a change of the files or the schedule retries)', {
        profile: this.name,
        code: error.code,
        error: error.describe(),
      });
      return;
    }
    const expiresAt = this.lastGood?.credentials.expiration.getTime();
    const at = nextAttemptAt({
      outcome: { kind: 'failure', retryable: error.retryable, failures: this.failures, ...(expiresAt !== undefined && { expiresAt }) },
      policy: this.spec.refresh,
      now,
      random: this.deps.random,
      tuning: this.tuning,
    });
    const delay = at - now;
    this.schedule(at);
    const meta = {
      profile: this.name,
      code: error.code,
      error: error.describe(),
      attempt: this.failures,
      retry_in_s: Math.round(delay / 1000),
      ...(valid ? { current_credentials_expire: valid.expiration.toISOString() } : {}),
    };
    if (valid) this.deps.log.warn('refresh failed; keeping the current credentials and retrying', meta);
    else this.deps.log.error(this.lastGood ? 'refresh failed and the credentials in the file have expired' : 'refresh failed; the profile has no credentials yet', meta);
  }

  private scheduleNext(): void {
    if (!this.lastGood) return;
    const now = this.deps.clock.now();
    const at = nextAttemptAt({
      outcome: { kind: 'success', issuedAt: this.lastGood.issuedAt, expiresAt: this.lastGood.credentials.expiration.getTime(), spread: this.spreadNext },
      policy: this.spec.refresh,
      now,
      random: this.deps.random,
    });
    this.spreadNext = false;
    this.schedule(at);
    this.scheduleExpiryNotice();
  }

  private schedule(atMs: number): void {
    this.nextAt = atMs;
    this.deps.timers.schedule(this.name, atMs, () => this.refresh('timer'));
  }

  /** When credentials run out while refreshes fail, say so once at the moment they expire. */
  private scheduleExpiryNotice(): void {
    const exp = this.lastGood?.credentials.expiration.getTime();
    if (exp === undefined) return;
    this.deps.timers.schedule(this.expiryKey, exp, () => {
      if (this.state === 'failing' && !this.expiryLogged) {
        this.expiryLogged = true;
        this.state = 'expired';
        this.deps.log.error('credentials in the file have expired; refreshes keep failing', {
          profile: this.name,
          expired: new Date(exp).toISOString(),
          ...(this.lastError ? { last_error: this.lastError.error.describe() } : {}),
        });
        this.deps.changed?.(this);
      }
    });
  }
}
