/**
 * The agent: one Job per profile, shared signers (one per key-material spec, watched for rotation),
 * one timer queue, one global quota (token bucket + concurrency limit, slowed by throttling) and one
 * credentials-file writer that batches refreshes finishing together into one atomic replace.
 * Data flows one way: schedule → jobs → signer → CreateSession → writer → file; the watcher and the
 * timers only ever call a job's coalesced refresh().
 */
import type { Credentials } from '../credentials.js';
import { AgentError } from '../errors.js';
import type { KeyMaterialOptions } from '../keys/options.js';
import type { Signer } from '../keys/signer.js';
import type { Log } from '../observability/logger.js';
import type { Redactor } from '../observability/redact.js';
import { createSession } from '../rolesanywhere/client.js';
import type { SessionResult } from '../rolesanywhere/reply.js';
import { makeTransport, type Transport, type TransportOptions } from '../rolesanywhere/transport.js';
import type { Clock } from '../time/clock.js';
import { ConcurrencyLimiter } from '../time/concurrency.js';
import type { Scheduler } from '../time/scheduler.js';
import { TimerQueue } from '../time/timers.js';
import { TokenBucket } from '../time/token-bucket.js';
import { watchFiles, type FileWatch } from '../watch/watcher.js';
import { DEFAULT_TUNING, Job, type JobEvents, type JobSnapshot, type JobSpec, type RetryTuning, type SessionSpec } from './job.js';
import { keyId, SignerSource, type LoadSigner } from './signer-source.js';

export interface AgentProfile extends JobSpec {
  key: KeyMaterialOptions;
  transport: TransportOptions;
}

export interface RateLimit {
  perSecond: number;
  burst: number;
  concurrency: number;
}

export interface AgentConfig {
  credentialsFile: string;
  profiles: AgentProfile[];
  rateLimit: RateLimit;
}

export interface CredentialsSink {
  write(profile: string, credentials: Credentials): Promise<void>;
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
  makeWriter: (path: string) => CredentialsSink;
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
  /** CreateSession outcomes, for metrics. */
  events?: JobEvents;
  /** Credentials already in the file from an earlier run, keyed by profile; adopted when still good. */
  existing?: (config: AgentConfig) => Promise<Map<string, { credentials: Credentials; issuedAt: number }>>;
}

interface SourceEntry {
  source: SignerSource;
  users: Set<string>;
  watch: FileWatch | undefined;
}

/** Files whose change means "reload this signer". */
export function watchedPaths(key: KeyMaterialOptions): string[] {
  const out: string[] = [];
  if (!key.certificate.startsWith('pkcs11:')) out.push(key.certificate);
  if (key.privateKey && !key.privateKey.startsWith('pkcs11:')) out.push(key.privateKey);
  if (key.intermediates) out.push(key.intermediates);
  if (key.password?.file) out.push(key.password.file);
  if (key.pin?.file) out.push(key.pin.file);
  return out;
}

function transportId(o: TransportOptions): string {
  return JSON.stringify([o.caBundle ?? '', !!o.noVerifySsl, o.connectTimeoutMs ?? 0, o.totalTimeoutMs ?? 0]);
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
    this.writer = this.deps.makeWriter(config.credentialsFile);
    this.setQuota(config.rateLimit);
    const existing = (await this.deps.existing?.(config)) ?? new Map();
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
        job.start(now + (config.profiles.length > 1 ? Math.floor((spread * i) / config.profiles.length) : 0));
      }
      i++;
    }
    await Promise.all([...this.sources.values()].map((s) => s.watch?.ready));
    this.deps.log.info('agent started', { profiles: config.profiles.length, credentials_file: config.credentialsFile });
  }

  /**
   * Applies a new schedule: unchanged profiles keep their timers and credentials, changed ones are
   * rebuilt and refreshed, removed ones stop (their last credentials stay in the file until they
   * expire). The caller validates the schedule first; a bad one never reaches here.
   */
  async reload(next: AgentConfig): Promise<{ added: string[]; changed: string[]; removed: string[]; unchanged: string[] }> {
    const prev = this.config!;
    if (next.credentialsFile !== prev.credentialsFile) {
      throw new AgentError('CONFIG_INVALID', `credentials_file changed from ${prev.credentialsFile} to ${next.credentialsFile}`, {
        hint: 'changing the credentials file needs a restart of the agent',
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
    for (const p of next.profiles) {
      const old = this.specs.get(p.name);
      if (!old) {
        this.addJob(p).start(this.deps.clock.now());
        result.added.push(p.name);
      } else if (old.specHash !== p.specHash) {
        await this.removeJob(p.name);
        this.addJob(p).start(this.deps.clock.now());
        result.changed.push(p.name);
      } else {
        result.unchanged.push(p.name);
      }
    }
    await Promise.all([...this.sources.values()].map((s) => s.watch?.ready));
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
        s.certificate = { path: spec.key.certificate };
        if (signer) {
          const notAfter = Date.parse(signer.certificate.validTo);
          s.certificate.serial = signer.certificate.serialNumber;
          s.certificate.subject = signer.certificate.subject.replace(/\n/g, ', ');
          s.certificate.notAfter = new Date(notAfter).toISOString();
          s.certificate.daysLeft = Math.floor((notAfter - now) / 86_400_000);
          s.certificate.chain = signer.chain.map((c) => ({ subject: c.subject.replace(/\n/g, ', '), notAfter: new Date(Date.parse(c.validTo)).toISOString() }));
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
  private readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new AgentError('ABORTED', 'cancelled'));
      const onAbort = () => {
        this.deps.scheduler.clearTimeout(handle);
        reject(new AgentError('ABORTED', 'cancelled'));
      };
      const handle = this.deps.scheduler.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });

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
      if (this.deps.watch) {
        const e = entry;
        entry.watch = watchFiles(watchedPaths(p.key), () => void this.onKeyFilesChanged(e), {
          onError: (err) => this.deps.log.warn('file watch error', { certificate: p.key.certificate, error: String(err) }),
        });
      }
      this.sources.set(id, entry);
    }
    entry.users.add(p.name);
    return entry.source;
  }

  private async onKeyFilesChanged(entry: SourceEntry): Promise<void> {
    if (this.stopped) return;
    const result = await entry.source.reload();
    if (result === 'switched' || result === 'loaded') {
      for (const name of entry.users) void this.jobs.get(name)?.refresh('certificate rotated', { queueIfBusy: true });
    }
  }

  private addJob(p: AgentProfile): Job {
    const source = this.sourceFor(p);
    const transport = this.transportFor(p.transport);
    const { deps } = this;
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
        call: (signer: Signer, session: SessionSpec, context: string, signal: AbortSignal): Promise<SessionResult> =>
          createSession(signer, { ...session, context, signal, env: deps.env }, { transport, clock: deps.clock, random: this.random, sleep: this.sleep }),
        write: async (profile, credentials) => {
          deps.redactor?.hold(`credentials:${profile}`, [credentials.secretAccessKey, credentials.sessionToken]);
          await this.writer.write(profile, credentials);
        },
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
