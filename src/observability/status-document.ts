/**
 * The status document: the one JSON shape `status --json` prints and `/status` serves, built by one
 * function from the agent's own job snapshots (live from a running agent, or from the state file it
 * replaces atomically) — never guessed from the credentials file. Also its text rendering for
 * `status`. Nothing secret goes in: no key material, no credentials, no access key fingerprint.
 */
import type { Agent, ProfileStatus } from '../agent/agent.js';
import { displaySource } from '../keys/display-source.js';
import type { Clock } from '../time/clock.js';
import type { RefreshPolicy } from '../time/refresh.js';
import { CRON_HEALTH_MARGIN_SECONDS, healthMarginSeconds, profileHealth } from './health.js';

const DAY_MS = 86_400_000;

export interface ChainRow {
  /** 1 for the leaf's issuer, then up the chain (the leaf is position 0). */
  position: number;
  subject: string;
  notAfter: string;
  daysLeft: number;
}

export interface StatusRow {
  profile: string;
  /** The job's state, or 'unknown' when the agent has none for this profile. */
  state: string;
  /** Credentials that have not expired. */
  valid: boolean;
  /** Valid for at least the refresh margin (see health.ts); what `/healthz` reports. */
  healthy: boolean;
  problem?: string;
  credentialsExpire?: string;
  /** Only while the agent runs; a stopped agent refreshes nothing. */
  nextRefresh?: string;
  lastSuccess?: string;
  lastError?: string;
  lastErrorHint?: string;
  /** The previous identity's keys were removed from the file (a reload changed the role, profile or trust anchor): why and when. */
  credentialsRemoved?: string;
  consecutiveFailures?: number;
  certificatePath?: string;
  certificateSerial?: string;
  certificateSubject?: string;
  certificateNotAfter?: string;
  certificateDaysLeft?: number;
  certificateError?: string;
  chain?: ChainRow[];
}

/** A credential endpoint (serve:): where the running agent serves it, or (serving false) what the schedule configures. */
export interface ServeRow {
  endpoint: 'ecs' | 'imds';
  address: string;
  serving: boolean;
  tokenDir?: string;
  profile?: string;
}

export interface StatusDocument {
  credentialsFile: string;
  /** Where the state came from: the running agent itself, the state file it left, or nothing. */
  source: 'agent' | 'state-file' | 'none';
  /** An agent (`run`) is up. */
  live: boolean;
  pid?: number;
  /** When the state file was written (source state-file only). */
  updatedAt?: string;
  /** There are profiles and every one is healthy. */
  healthy: boolean;
  profiles: StatusRow[];
  /** The credential endpoints (serve:), when the schedule has any; `status` adds them. */
  serve?: ServeRow[];
}

export interface StatusInput {
  credentialsFile: string;
  source: StatusDocument['source'];
  live: boolean;
  pid?: number;
  updatedAt?: string;
  now: number;
  profiles: Array<{ name: string; status: ProfileStatus | undefined; marginSeconds: number }>;
}

const daysLeft = (iso: string, now: number) => Math.floor((Date.parse(iso) - now) / DAY_MS);

export function statusRow(name: string, s: ProfileStatus | undefined, marginSeconds: number, now: number, live: boolean): StatusRow {
  const health = profileHealth(s, marginSeconds, now);
  const row: StatusRow = {
    profile: name,
    state: s?.state ?? 'unknown',
    valid: !!s?.expiration && Date.parse(s.expiration) > now,
    healthy: health.healthy,
  };
  if (health.problem) row.problem = health.problem;
  if (!s) return row;
  if (s.expiration) row.credentialsExpire = s.expiration;
  if (live && s.nextRefresh) row.nextRefresh = s.nextRefresh;
  if (s.lastSuccess) row.lastSuccess = s.lastSuccess;
  if (s.lastError) {
    row.lastError = `${s.lastError.code}: ${s.lastError.message}`;
    if (s.lastError.hint) row.lastErrorHint = s.lastError.hint;
  }
  if (s.credentialsRemoved) row.credentialsRemoved = `${s.credentialsRemoved.at}: ${s.credentialsRemoved.reason}`;
  row.consecutiveFailures = s.consecutiveFailures;
  const c = s.certificate;
  if (c) {
    // A state file written before PINs were redacted may still hold one in a pkcs11: URI.
    row.certificatePath = displaySource(c.path);
    if (c.serial) row.certificateSerial = c.serial;
    if (c.subject) row.certificateSubject = c.subject;
    if (c.notAfter) {
      row.certificateNotAfter = c.notAfter;
      row.certificateDaysLeft = daysLeft(c.notAfter, now);
    }
    if (c.error) row.certificateError = c.error;
    if (c.chain?.length) row.chain = c.chain.map((x, i) => ({ position: i + 1, subject: x.subject, notAfter: x.notAfter, daysLeft: daysLeft(x.notAfter, now) }));
  }
  return row;
}

export function buildStatusDocument(input: StatusInput): StatusDocument {
  const profiles = input.profiles.map((p) => statusRow(p.name, p.status, p.marginSeconds, input.now, input.live));
  return {
    credentialsFile: input.credentialsFile,
    source: input.source,
    live: input.live,
    ...(input.pid !== undefined && { pid: input.pid }),
    ...(input.updatedAt !== undefined && { updatedAt: input.updatedAt }),
    // No profile at all (an agent not started yet) is not health.
    healthy: profiles.length > 0 && profiles.every((p) => p.healthy),
    profiles,
  };
}

/** What a running agent exposes to the listener and the metrics. */
export interface AgentView {
  clock: Clock;
  pid: number;
  credentialsFile(): string;
  /** The agent's job snapshots (Agent.status()). */
  profiles(): ProfileStatus[];
  /** The health margin of a profile of the current schedule (see healthMarginSeconds). */
  marginSeconds(profile: string): number;
  /** The credentials writer's replace count (Agent.replaceCount). */
  replaceCount(): number;
  /** The credential endpoints (serve:) listening now. */
  serve(): Array<Omit<ServeRow, 'serving'>>;
}

/** The view of a running agent; `refreshOf` answers from the schedule in force (it changes on reload). */
export function agentView(
  agent: Agent,
  o: {
    clock: Clock;
    pid: number;
    credentialsFile: () => string;
    refreshOf: (profile: string) => RefreshPolicy | undefined;
    serve?: () => Array<Omit<ServeRow, 'serving'>>;
  },
): AgentView {
  return {
    clock: o.clock,
    pid: o.pid,
    credentialsFile: o.credentialsFile,
    profiles: () => agent.status(),
    marginSeconds: (name) => {
      const refresh = o.refreshOf(name);
      return refresh ? healthMarginSeconds(refresh) : CRON_HEALTH_MARGIN_SECONDS;
    },
    replaceCount: () => agent.replaceCount,
    serve: () => o.serve?.() ?? [],
  };
}

/** The document a running agent serves at /status. */
export function liveStatusDocument(view: AgentView): StatusDocument {
  const serve = view.serve().map((l): ServeRow => ({ endpoint: l.endpoint, address: l.address, serving: true, ...(l.tokenDir && { tokenDir: l.tokenDir }), ...(l.profile && { profile: l.profile }) }));
  const doc = buildStatusDocument({
    credentialsFile: view.credentialsFile(),
    source: 'agent',
    live: true,
    pid: view.pid,
    now: view.clock.now(),
    profiles: view.profiles().map((s) => ({ name: s.name, status: s, marginSeconds: view.marginSeconds(s.name) })),
  });
  return serve.length ? { ...doc, serve } : doc;
}

/** `status` without --json. */
export function formatStatusText(doc: StatusDocument): string {
  const where =
    doc.source === 'agent'
      ? `agent running, pid ${doc.pid}`
      : doc.source === 'state-file'
        ? doc.live
          ? `agent running, pid ${doc.pid}; state file of ${doc.updatedAt}`
          : `no agent running; state as of ${doc.updatedAt}`
        : 'no agent state: start the agent (run) or refresh once';
  const lines = [`${doc.credentialsFile} (${where})${doc.healthy ? '' : ' — NOT HEALTHY'}`];
  for (const r of doc.profiles) {
    const parts = [
      r.profile,
      r.valid ? `valid until ${r.credentialsExpire}` : r.credentialsExpire ? `EXPIRED ${r.credentialsExpire}` : r.credentialsRemoved ? `NO CREDENTIALS (removed ${r.credentialsRemoved})` : 'NO CREDENTIALS',
      `state ${r.state}`,
      r.nextRefresh ? `next refresh ${r.nextRefresh}` : undefined,
      r.lastError ? `last error ${r.lastError}` : undefined,
      r.certificateNotAfter ? `certificate until ${r.certificateNotAfter} (${r.certificateDaysLeft} days)` : r.certificateError ? `certificate: ${r.certificateError}` : undefined,
      ...(r.chain ?? []).filter((c) => r.certificateDaysLeft === undefined || c.daysLeft < r.certificateDaysLeft).map((c) => `CA "${c.subject}" until ${c.notAfter} (${c.daysLeft} days)`),
      r.problem && r.valid ? `unhealthy: ${r.problem}` : undefined,
    ].filter(Boolean);
    lines.push(parts.join('\t'));
  }
  for (const l of doc.serve ?? []) {
    const details = `${l.tokenDir ? ` (tokens in ${l.tokenDir})` : ''}${l.profile ? ` (profile ${l.profile})` : ''}`;
    lines.push(l.serving ? `serving ${l.endpoint}: ${l.address}${details}` : `serve ${l.endpoint}: ${l.address}${details} (configured; not served now)`);
  }
  return lines.join('\n') + '\n';
}
