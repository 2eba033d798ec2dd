/**
 * Fakes at the agent's edges, shared by the agent and observability tests: profiles on fixed ARNs,
 * a scripted CreateSession service (the transport is the only fake; signing and reply parsing run
 * for real), a credentials sink that remembers every write, a captured Log, and an in-process Agent
 * on a manual clock built from them.
 */
import type { Credentials } from '../../src/credentials.js';
import { Agent, type AgentConfig, type AgentProfile, type CredentialsSink } from '../../src/agent/agent.js';
import type { JobEvents } from '../../src/agent/job.js';
import type { Signer } from '../../src/keys/signer.js';
import type { Log } from '../../src/log/logger.js';
import type { Redactor } from '../../src/log/redact.js';
import type { HttpReply, Transport } from '../../src/rolesanywhere/transport.js';
import { ManualClock, type Clock } from '../../src/time/clock.js';
import { ManualScheduler } from '../../src/time/manual-scheduler.js';
import { KAT_EC_CERT, KAT_EC_KEY } from '../rolesanywhere/fixtures/kat-material.js';
import { memorySigner } from './signer.js';

export const TA = 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/2b7f1a3c-4d5e-4f60-8a9b-0c1d2e3f4a5b';
export const PR = 'arn:aws:rolesanywhere:eu-west-1:111122223333:profile/6c7d8e9f-0a1b-4c2d-9e3f-4a5b6c7d8e9f';

/** A profile named `name` assuming role/`name`, refreshed 15 min before expiry without jitter. */
export function profile(name: string, extra: Partial<AgentProfile> = {}): AgentProfile {
  return {
    name,
    specHash: `hash-${name}`,
    session: { trustAnchorArn: TA, profileArn: PR, roleArn: `arn:aws:iam::111122223333:role/${name}`, durationSeconds: 3600 },
    refresh: { kind: 'before_expiry', marginSeconds: 900, jitterSeconds: 0 },
    key: { certificate: `/certs/${name}.pem`, privateKey: `/certs/${name}.key` },
    transport: {},
    ...extra,
  };
}

export const reply = (status: number, type: string): HttpReply => ({ status, headers: { 'x-amzn-errortype': type }, body: '{"message":"scripted"}' });

/** The service: credentials per role, scripted failures per role (a reply or a thrown error), every issued set kept. */
export class FakeService implements Transport {
  calls: string[] = [];
  failures = new Map<string, Array<HttpReply | Error>>();
  issued: Credentials[] = [];
  constructor(
    private readonly clock: Clock,
    public lifetimeS = 3600,
  ) {}
  async post(url: string): Promise<HttpReply> {
    const role = new URL(url).searchParams.get('roleArn')!.split('/').pop()!;
    this.calls.push(role);
    const f = this.failures.get(role)?.shift();
    if (f instanceof Error) throw f;
    if (f) return f;
    const n = this.issued.length + 1;
    const c = {
      accessKeyId: `ASIA${role.toUpperCase()}${n}`,
      secretAccessKey: `secret-${role}-${n}-${'s'.repeat(20)}`,
      sessionToken: `token-${role}-${n}-${'t'.repeat(40)}`,
      expiration: new Date(this.clock.now() + this.lifetimeS * 1000),
    };
    this.issued.push(c);
    return { status: 201, headers: {}, body: JSON.stringify({ credentialSet: [{ credentials: { ...c, expiration: c.expiration.toISOString() } }] }) };
  }
  async close() {}
}

export class MemorySink implements CredentialsSink {
  writes: Array<{ profile: string; credentials: Credentials }> = [];
  /** Profiles whose keys were removed, in order. */
  removals: string[] = [];
  /** Every change in order: a profile name, or `-name` for a removal. */
  changes: string[] = [];
  replaceCount = 0;
  async write(profile: string, credentials: Credentials) {
    this.writes.push({ profile, credentials });
    this.changes.push(profile);
    this.replaceCount++;
  }
  async remove(profile: string) {
    this.removals.push(profile);
    this.changes.push(`-${profile}`);
    this.replaceCount++;
  }
  async flush() {}
  async close() {}
  /** The last credentials written for a profile. */
  last(profile: string) {
    return [...this.writes].reverse().find((w) => w.profile === profile)?.credentials;
  }
}

export interface LogRecord {
  level: string;
  message: string;
  meta: Record<string, unknown>;
}

/** A Log that keeps every record. */
export function captureLog(): Log & { lines: LogRecord[] } {
  const lines: LogRecord[] = [];
  const at = (level: string) => (message: string, meta?: Record<string, unknown>) => void lines.push({ level, message, meta: meta ?? {} });
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** The records as `level message {meta as JSON}` lines, for matching on text. */
export function logText(log: { lines: LogRecord[] }): string[] {
  return log.lines.map((r) => `${r.level} ${r.message} ${JSON.stringify(r.meta)}`);
}

export interface AgentWorldOptions {
  /** The manual clock's start (ms since the epoch). */
  now: number;
  /** Default: the known-answer EC test key. */
  loadSigner?: () => Promise<Signer>;
  /** Credentials already in the file, by profile. */
  existing?: Map<string, { credentials: Credentials; issuedAt: number }>;
  redactor?: Redactor;
  events?: JobEvents;
  /** Profiles an earlier run wrote for another identity, with the reason. */
  changedIdentities?: Map<string, string>;
}

const settle = async (n = 30) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** An Agent on a manual clock and scheduler against the scripted service, writing to a MemorySink. */
export function agentWorld(profiles: AgentProfile[], o: AgentWorldOptions) {
  const clock = new ManualClock(o.now);
  const scheduler = new ManualScheduler(clock);
  const service = new FakeService(clock);
  const sink = new MemorySink();
  const log = captureLog();
  const agent = new Agent({
    clock,
    scheduler,
    log,
    env: {},
    random: () => 0,
    loadSigner: o.loadSigner ?? (async () => memorySigner(KAT_EC_CERT, KAT_EC_KEY)),
    makeWriter: () => sink,
    makeTransport: () => service,
    watch: false,
    tuning: { baseMs: 2_000, capMs: 60_000, slowBaseMs: 60_000, slowCapMs: 600_000 },
    ...(o.existing && { existing: async () => o.existing! }),
    ...(o.redactor && { redactor: o.redactor }),
    ...(o.events && { events: o.events }),
    ...(o.changedIdentities && { changedIdentities: async () => o.changedIdentities! }),
  });
  const config: AgentConfig = { credentialsFile: '/tmp/agent-world-credentials', profiles, rateLimit: { perSecond: 100, burst: 100, concurrency: 4 } };
  /** Moves both clocks in 1 s steps so promise chains between timers settle. */
  const advance = async (ms: number) => {
    for (let done = 0; done < ms; done += 1000) {
      scheduler.advance(Math.min(1000, ms - done));
      await settle();
    }
  };
  return { clock, scheduler, service, sink, log, agent, config, advance };
}
