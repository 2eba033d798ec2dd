/**
 * The agent: one Job per profile, shared signers (one per key-material spec, watched for rotation),
 * one timer queue, one global quota (token bucket + concurrency limit, slowed by throttling) and one
 * credentials-file writer that batches refreshes finishing together into one atomic replace.
 * Data flows one way: schedule → jobs → signer → CreateSession → writer → file; the watcher and the
 * timers only ever call a job's coalesced refresh().
 */
import type { Credentials } from '../credentials.js';
import type { TrustPolicy } from '../credentials-file/trust.js';
import { AgentError } from '../errors.js';
import type { KeyMaterialOptions } from '../keys/options.js';
import { displaySource } from '../keys/display-source.js';
import { isKeyFile } from '../keys/sources/index.js';
import { oneLineName } from '../keys/certificates.js';
import type { Signer } from '../keys/signer.js';
import type { Log } from '../log/logger.js';
import type { Redactor } from '../log/redact.js';
import { createSession, prepareSession, type ClientDeps, type CreateSessionOptions } from '../rolesanywhere/client.js';
import type { ResolvedEndpoint } from '../rolesanywhere/endpoint.js';
import type { SessionResult } from '../rolesanywhere/reply.js';
import { proxyVariable } from '../rolesanywhere/proxy.js';
import { makeTransport, type Transport, type TransportOptions } from '../rolesanywhere/transport.js';
import { abortableSleep } from '../time/abort.js';
import type { Clock } from '../time/clock.js';
import { ConcurrencyLimiter } from '../time/concurrency.js';
import type { Scheduler } from '../time/scheduler.js';
import { TimerQueue } from '../time/timers.js';
import type { RateLimit } from '../time/rate-limit.js';
import { TokenBucket } from '../time/token-bucket.js';
import { DEFAULT_WATCH_INTERVAL_MS, RotationWatch, type DirWatcherFactory, type RotationTrigger } from '../watch/rotation.js';
import { DEFAULT_TUNING, Job, type JobEvents, type JobSnapshot, type JobSpec, type RetryTuning, type SessionIdentity, type SessionSpec } from './job.js';
import type { AgentProfile } from '../config/profile/agent-profile.js';
import { keyId, SignerSource, type LoadSigner } from './signer-source.js';

export type { AgentProfile };

/** Job outcomes plus what the rotation watch sees, for metrics. */
export interface AgentEvents extends JobEvents {
  /** A rotated certificate replaced the one in use; `trigger` says what noticed it. */
  rotated?(trigger: RotationTrigger): void;
}

export interface AgentConfig {
  credentialsFile: string;
  /** Who may own the credentials file's path (credentials_file_owner, credentials_dir_shared). */
  credentialsTrust?: TrustPolicy;
  profiles: AgentProfile[];
  rateLimit: RateLimit;
}

export interface CredentialsSink {
  write(profile: string, credentials: Credentials): Promise<void>;
  /** Takes the agent's keys out of the profile (see ProfileRemoval). */
  remove(profile: string): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
  readonly replaceCount?: number;
}

export interface AgentDeps {
  clock: Clock;
  scheduler: Scheduler;
  log: Log;
  env: NodeJS.ProcessEnv;
  loadSigner: LoadSigner;
  makeWriter: (path: string, trust?: TrustPolicy) => CredentialsSink;
  makeTransport?: (o: TransportOptions) => Transport;
  random?: () => number;
  redactor?: Redactor;
  /** Watch key files for rotation (the `run` command); `once` does not. */
  watch?: boolean;
  /** Let the process exit while timers are pending (`once`). */
  unrefTimers?: boolean;
  tuning?: RetryTuning;
  /** Called (debounced by the caller if it wants) whenever a job's state changes. */
  onChange?: () => void;
  /** CreateSession outcomes and rotations, for metrics. */
  events?: AgentEvents;
  /** How the rotation watch watches directories (tests inject one that drops every event). */
  dirWatcher?: DirWatcherFactory;
  /** Credentials already in the file from an earlier run, keyed by profile; adopted when still good. */
  existing?: (config: AgentConfig) => Promise<Map<string, { credentials: Credentials; issuedAt: number }>>;
  /**
   * Profiles whose keys in the file were made, by an earlier run, for another identity than the
   * schedule now names (see identityChange), with the reason: they go at the first failure.
   */
  changedIdentities?: (config: AgentConfig) => Promise<Map<string, string>>;
}

interface SourceEntry {
  source: SignerSource;
  users: Set<string>;
  watch: RotationWatch | undefined;
}

/** Files whose change means "reload this signer". */
export function watchedPaths(key: KeyMaterialOptions): string[] {
  const out: string[] = [];
  if (isKeyFile(key.certificate)) out.push(key.certificate);
  if (isKeyFile(key.privateKey)) out.push(key.privateKey);
  if (key.intermediates) out.push(key.intermediates);
  if (key.password?.file) out.push(key.password.file);
  if (key.pin?.file) out.push(key.pin.file);
  return out;
}

/**
 * How a reload changed what the profile's credentials are for — the role, the Roles Anywhere
 * profile or the trust anchor — in words for status and the log, or undefined when it did not (a
 * new certificate or key, a session length or refresh change keeps the identity).
 */
export function identityChange(before: SessionIdentity, after: SessionIdentity): string | undefined {
  const fields = [
    ['role_arn', before.roleArn, after.roleArn],
    ['profile_arn', before.profileArn, after.profileArn],
    ['trust_anchor_arn', before.trustAnchorArn, after.trustAnchorArn],
  ] as const;
  const changed = fields.filter(([, a, b]) => a !== b).map(([name, a, b]) => `${name} changed from ${a} to ${b}`);
  return changed.length ? `the schedule's ${changed.join('; ')}` : undefined;
}

/** What status() shows of one signer's certificates (keys/certificates.ts reads the checks' facts). */
interface SignerFacts {
  serial: string;
  subject: string;
  notAfter: string;
  notAfterMs: number;
  chain: readonly { subject: string; notAfter: string }[];
}

/**
 * What status() shows of a signer's certificates, worked out once per signer: status() walks every
 * profile at each state write (once a second in a refresh burst), and 1000 profiles sharing one
 * certificate re-parsed the same dates and subjects 1000 times a write.
 */
const signerFactsCache = new WeakMap<Signer, SignerFacts>();
function signerFacts(signer: Signer): SignerFacts {
  let f = signerFactsCache.get(signer);
  if (!f) {
    const notAfterMs = Date.parse(signer.certificate.validTo);
    f = {
      serial: signer.certificate.serialNumber,
      subject: oneLineName(signer.certificate.subject),
      notAfter: new Date(notAfterMs).toISOString(),
      notAfterMs,
      chain: signer.chain.map((c) => ({ subject: oneLineName(c.subject), notAfter: new Date(Date.parse(c.validTo)).toISOString() })),
    };
    signerFactsCache.set(signer, f);
  }
  return f;
}

function transportId(o: TransportOptions): string {
  return JSON.stringify([o.caBundle ?? '', !!o.noVerifySsl, o.connectTimeoutMs ?? 0, o.totalTimeoutMs ?? 0, !!o.direct]);
}

export interface ProfileStatus extends JobSnapshot {
  certificate?: {
    path: string;
    serial?: string;
    subject?: string;
    notAfter?: string;
    daysLeft?: number;
    /** Intermediates sent with the requests, leaf's issuer first. */
    chain?: Array<{ subject: string; notAfter: string }>;
    error?: string;
  };
}

export class Agent {
  private config: AgentConfig | undefined;
  private readonly jobs = new Map<string, Job>();
  private readonly specs = new Map<string, AgentProfile>();
  /** keyId(spec.key) per profile, computed once (it hashes the spec). */
  private readonly keyIds = new Map<string, string>();
  private readonly sources = new Map<string, SourceEntry>();
  private readonly transports = new Map<string, Transport>();
  private readonly timers: TimerQueue;
  private bucket!: TokenBucket;
  private limiter!: ConcurrencyLimiter;
  private writer!: CredentialsSink;
  private readonly random: () => number;
  private stopped = false;

  constructor(private readonly deps: AgentDeps) {
    this.random = deps.random ?? Math.random;
    this.timers = new TimerQueue({
      clock: deps.clock,
      scheduler: deps.scheduler,
      unref: deps.unrefTimers ?? false,
      onError: (key, e) => deps.log.error('timer callback failed', { key, error: String(e) }),
    });
  }

  get credentialsFile(): string | undefined {
    return this.config?.credentialsFile;
  }

  /** Starts every job; staggered so N profiles don't fire together. */
  async start(config: AgentConfig): Promise<void> {
    this.config = config;
    this.writer = this.deps.makeWriter(config.credentialsFile, config.credentialsTrust);
    this.setQuota(config.rateLimit);
    const existing = (await this.deps.existing?.(config)) ?? new Map();
    const changed = (await this.deps.changedIdentities?.(config)) ?? new Map<string, string>();
    const now = this.deps.clock.now();
    const spread = this.staggerWindowMs(config.profiles.length, config.rateLimit);
    let i = 0;
    for (const p of config.profiles) {
      const job = this.addJob(p);
      const prior = existing.get(p.name);
      if (prior && prior.credentials.expiration.getTime() > now) {
        this.deps.redactor?.hold(`credentials:${p.name}`, [prior.credentials.secretAccessKey, prior.credentials.sessionToken]);
        job.adopt(prior.credentials, prior.issuedAt);
        this.deps.log.info('kept credentials already in the file', { profile: p.name, expires: prior.credentials.expiration.toISOString() });
      } else {
        const why = changed.get(p.name);
        if (why) job.revokeOnFailure(why);
        job.start(now + (config.profiles.length > 1 ? Math.floor((spread * i) / config.profiles.length) : 0));
      }
      i++;
    }
    this.syncWatchIntervals();
    await Promise.all([...this.sources.values()].map((s) => s.watch?.ready));
    this.deps.log.info('agent started', { profiles: config.profiles.length, credentials_file: config.credentialsFile });
  }

  /**
   * Applies a new schedule: unchanged profiles keep their timers and credentials; changed ones are
   * rebuilt and refreshed at once — keeping their last good credentials when the identity (role,
   * profile, trust anchor) is the same, else losing the old identity's keys from the file at the
   * first failure (a success overwrites them); removed ones stop and their keys leave the file now,
   * since nothing schedules that identity any more. The caller validates the schedule first; a bad
   * one never reaches here.
   */
  async reload(next: AgentConfig): Promise<{ added: string[]; changed: string[]; removed: string[]; unchanged: string[] }> {
    const prev = this.config!;
    if (next.credentialsFile !== prev.credentialsFile) {
      throw new AgentError('CONFIG_INVALID', `credentials_file changed from ${prev.credentialsFile} to ${next.credentialsFile}`, {
        hint: 'changing the credentials file needs a restart of the agent',
      });
    }
    if (JSON.stringify(next.credentialsTrust ?? {}) !== JSON.stringify(prev.credentialsTrust ?? {})) {
      throw new AgentError('CONFIG_INVALID', 'credentials_file_owner or credentials_dir_shared changed', {
        hint: 'changing who may own the credentials file needs a restart of the agent',
      });
    }
    this.config = next;
    this.setQuota(next.rateLimit);
    const result = { added: [] as string[], changed: [] as string[], removed: [] as string[], unchanged: [] as string[] };
    const wanted = new Map(next.profiles.map((p) => [p.name, p]));
    for (const name of [...this.jobs.keys()]) {
      if (!wanted.has(name)) {
        await this.removeJob(name);
        result.removed.push(name);
      }
    }
    // One replace for every removed profile (the writer batches them).
    const removals = result.removed.map((name) =>
      this.writer.remove(name).then(
        () => this.deps.log.info('removed the credentials of a profile that left the schedule', { profile: name }),
        (e: unknown) => this.deps.log.error('could not remove the credentials of a profile that left the schedule', { profile: name, error: e instanceof AgentError ? e.describe() : String(e) }),
      ),
    );
    for (const p of next.profiles) {
      const old = this.specs.get(p.name);
      if (!old) {
        this.addJob(p).start(this.deps.clock.now());
        result.added.push(p.name);
      } else if (old.specHash !== p.specHash) {
        const before = this.jobs.get(p.name)!;
        const carried = before.lastGoodCredentials();
        const owed = before.pendingRevoke;
        await this.removeJob(p.name);
        const job = this.addJob(p);
        const changed = identityChange(old.session, p.session);
        if (changed || owed) job.revokeOnFailure(changed ?? owed!);
        else if (carried && carried.credentials.expiration.getTime() > this.deps.clock.now()) job.adopt(carried.credentials, carried.issuedAt);
        job.start(this.deps.clock.now());
        result.changed.push(p.name);
      } else {
        // Same profile; only settings outside the hash (watch_interval) may differ.
        this.specs.set(p.name, p);
        result.unchanged.push(p.name);
      }
    }
    this.syncWatchIntervals();
    await Promise.all([...this.sources.values()].map((s) => s.watch?.ready));
    await Promise.all(removals);
    return result;
  }

  /** Refreshes one profile (or all) now; resolves when done. */
  async refreshNow(names?: string[]): Promise<void> {
    const jobs = names ? names.map((n) => this.jobs.get(n)).filter((j): j is Job => !!j) : [...this.jobs.values()];
    await Promise.all(jobs.map((j) => j.refresh('manual')));
  }

  /** `once`: refresh what is missing or due, wait, and report. */
  async runOnce(names?: string[]): Promise<ProfileStatus[]> {
    const now = this.deps.clock.now();
    const selected = names ? names.map((n) => this.jobs.get(n)).filter((j): j is Job => !!j) : [...this.jobs.values()];
    for (const j of this.jobs.values()) if (!selected.includes(j)) j.stop();
    await Promise.all(
      selected.map(async (j) => {
        const s = j.snapshot();
        const due = !s.nextRefresh || Date.parse(s.nextRefresh) <= now || j.state !== 'fresh';
        if (due) await j.refresh('once');
      }),
    );
    await this.writer.flush();
    return this.status().filter((s) => selected.some((j) => j.name === s.name));
  }

  status(): ProfileStatus[] {
    const now = this.deps.clock.now();
    return [...this.jobs.values()].map((j) => {
      const s: ProfileStatus = j.snapshot();
      const spec = this.specs.get(j.name);
      if (spec) {
        const entry = this.sources.get(this.keyIds.get(j.name)!);
        const signer = entry?.source.peek();
        s.certificate = { path: displaySource(spec.key.certificate) };
        if (signer) {
          const c = signerFacts(signer);
          s.certificate.serial = c.serial;
          s.certificate.subject = c.subject;
          s.certificate.notAfter = c.notAfter;
          s.certificate.daysLeft = Math.floor((c.notAfterMs - now) / 86_400_000);
          s.certificate.chain = c.chain.map((x) => ({ ...x }));
        } else if (entry?.source.lastLoadError) {
          s.certificate.error = entry.source.lastLoadError.describe();
        }
      }
      return s;
    });
  }

  /** For the serve endpoints (src/serve/): one profile's cached credentials and status; never calls AWS. */
  cached(name: string): { current: { credentials: Credentials; issuedAt: number } | undefined; snapshot: () => JobSnapshot } | undefined {
    const job = this.jobs.get(name);
    return job && { current: job.cached(), snapshot: () => job.snapshot() };
  }

  get replaceCount(): number {
    return this.writer?.replaceCount ?? 0;
  }

  /** Aborts in-flight calls, finishes the pending write, closes watchers, tokens and sockets. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const j of this.jobs.values()) j.stop();
    this.timers.clear();
    await Promise.all([...this.jobs.values()].map((j) => j.settled()));
    await this.writer?.flush().catch((e: unknown) => this.deps.log.error('final write failed', { error: String(e) }));
    await this.writer?.close().catch(() => {});
    for (const e of this.sources.values()) {
      await e.watch?.close().catch(() => {});
      await e.source.close();
    }
    this.sources.clear();
    for (const t of this.transports.values()) await t.close().catch(() => {});
    this.transports.clear();
  }

  /** The client's in-call retry wait, on the agent's scheduler (a fake one in tests). */
  private readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> => abortableSleep(this.deps.scheduler, ms, signal);

  private setQuota(r: RateLimit): void {
    this.bucket = new TokenBucket({
      ratePerSecond: r.perSecond,
      burst: r.burst,
      clock: this.deps.clock,
      scheduler: this.deps.scheduler,
      unref: this.deps.unrefTimers ?? false,
    });
    this.limiter = new ConcurrencyLimiter(r.concurrency);
  }

  private staggerWindowMs(n: number, r: RateLimit): number {
    // Spread start-up over the time the quota needs anyway, at most 30 s.
    return Math.min(30_000, Math.max(0, ((n - r.burst) / r.perSecond) * 1000));
  }

  private transportFor(o: TransportOptions): Transport {
    const id = transportId(o);
    let t = this.transports.get(id);
    if (!t) {
      t = (this.deps.makeTransport ?? ((x) => makeTransport(x, this.deps.env)))(o);
      this.transports.set(id, t);
      // with_proxy: false used to be ignored (and the example wrote it): say so when a proxy is set.
      const [proxy, value] = o.direct ? proxyVariable(this.deps.env, 'https_proxy') : ['', ''];
      if (value !== '') this.deps.log.warn(`with_proxy: false — connecting directly; ${proxy} is ignored for these profiles`, { with_proxy: false });
    }
    return t;
  }

  private sourceFor(p: AgentProfile): SignerSource {
    const id = keyId(p.key);
    this.keyIds.set(p.name, id);
    let entry = this.sources.get(id);
    if (!entry) {
      const source = new SignerSource(p.key, this.deps.loadSigner, this.deps.log);
      entry = { source, users: new Set(), watch: undefined };
      const paths = watchedPaths(p.key);
      // A key and certificate both on a token have no files to watch.
      if (this.deps.watch && paths.length > 0) {
        const e = entry;
        const log = this.deps.log;
        entry.watch = new RotationWatch({
          paths,
          clock: this.deps.clock,
          scheduler: this.deps.scheduler,
          intervalMs: p.watchIntervalMs ?? DEFAULT_WATCH_INTERVAL_MS,
          apply: (trigger) => this.onKeyFilesChanged(e, trigger),
          stuck: (error) =>
            e.source.peek()
              ? log.warn('certificate or key changed but the new pair cannot be used; keeping the previous one', { certificate: p.key.certificate, error })
              : log.warn('certificate or key changed but still cannot be used', { certificate: p.key.certificate, error }),
          log,
          ...(this.deps.dirWatcher && { watcher: this.deps.dirWatcher }),
        });
      }
      this.sources.set(id, entry);
    }
    entry.users.add(p.name);
    return entry.source;
  }

  /** The rotation watch saw new bytes behind the key files: load them, and refresh every user if they work. */
  private async onKeyFilesChanged(entry: SourceEntry, trigger: RotationTrigger): Promise<{ ok: true } | { ok: false; error: string }> {
    if (this.stopped) return { ok: true };
    const result = await entry.source.reload({ trigger, quiet: true });
    if (result === 'kept-old') return { ok: false, error: entry.source.lastReloadError?.describe() ?? 'the new files cannot be used' };
    if (result === 'switched') this.deps.events?.rotated?.(trigger);
    if (result === 'switched' || result === 'loaded') {
      for (const name of entry.users) void this.jobs.get(name)?.refresh('certificate rotated', { queueIfBusy: true });
    }
    return { ok: true };
  }

  /**
   * Each key's watch checks at the shortest watch_interval of the profiles using it. Set once all
   * jobs are added or removed (start, reload): per job, each walking every user of the key, it was
   * quadratic in the number of profiles sharing a key.
   */
  private syncWatchIntervals(): void {
    for (const entry of this.sources.values()) this.syncWatchInterval(entry);
  }

  /** A key shared by several profiles is checked at the shortest of their intervals (0 = off for all). */
  private syncWatchInterval(entry: SourceEntry): void {
    if (!entry.watch) return;
    const intervals = [...entry.users].map((n) => this.specs.get(n)?.watchIntervalMs ?? DEFAULT_WATCH_INTERVAL_MS).filter((ms) => ms > 0);
    entry.watch.setInterval(intervals.length ? Math.min(...intervals) : 0);
  }

  private addJob(p: AgentProfile): Job {
    const source = this.sourceFor(p);
    const transport = this.transportFor(p.transport);
    const { deps } = this;
    /**
     * The call's options, endpoint and client deps, built once per session spec: the job passes the
     * same spec, context and signal on every refresh, and spreading the spec into new options on
     * each one was ~12 µs of a refresh's CPU (its line of the warm 1000-profile profile).
     */
    let prepared: { session: SessionSpec; context: string; signal: AbortSignal; options: CreateSessionOptions; endpoint: ResolvedEndpoint } | undefined;
    const clientDeps: ClientDeps = { transport, clock: deps.clock, random: this.random, sleep: this.sleep };
    const job = new Job(
      p,
      {
        clock: deps.clock,
        log: deps.log,
        random: this.random,
        timers: this.timers,
        acquire: async (signal) => {
          const release = await this.limiter.acquire(signal);
          try {
            await this.bucket.take(signal);
          } catch (e) {
            release();
            throw e;
          }
          return { release };
        },
        throttled: () => this.bucket.slowDown(),
        signer: () => source.get(),
        call: (signer: Signer, session: SessionSpec, context: string, signal: AbortSignal): Promise<SessionResult> => {
          // Checked once per session spec (a bad one throws here on every call, as before).
          if (prepared?.session !== session || prepared.context !== context || prepared.signal !== signal) {
            const options = { ...session, context, signal, env: deps.env };
            prepared = { session, context, signal, options, endpoint: prepareSession(options) };
          }
          return createSession(signer, prepared.options, clientDeps, prepared.endpoint);
        },
        write: async (profile, credentials) => {
          deps.redactor?.hold(`credentials:${profile}`, [credentials.secretAccessKey, credentials.sessionToken]);
          await this.writer.write(profile, credentials);
        },
        remove: (profile) => this.writer.remove(profile),
        changed: () => deps.onChange?.(),
        ...(deps.events ? { events: deps.events } : {}),
      },
      deps.tuning ?? DEFAULT_TUNING,
    );
    this.jobs.set(p.name, job);
    this.specs.set(p.name, p);
    return job;
  }

  private async removeJob(name: string): Promise<void> {
    const job = this.jobs.get(name);
    const spec = this.specs.get(name);
    job?.stop();
    await job?.settled();
    this.jobs.delete(name);
    this.specs.delete(name);
    const id = this.keyIds.get(name);
    this.keyIds.delete(name);
    if (spec && id) {
      const entry = this.sources.get(id);
      entry?.users.delete(name);
      if (entry && entry.users.size === 0) {
        await entry.watch?.close().catch(() => {});
        await entry.source.close();
        this.sources.delete(id);
      }
    }
  }
}
