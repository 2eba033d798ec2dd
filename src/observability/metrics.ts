/**
 * The agent's Prometheus metrics, in a private prom-client Registry (never the global one, so two
 * agents in one process — tests — never share series). Counters come from the jobs' events
 * (CreateSession outcomes, throttled replies) and from `run` (schedule reloads); gauges are computed
 * at scrape time from the agent's status, so they can never disagree with `/status` or `/healthz`.
 * Every per-profile series carries a `profile` label. The names and sample alerts are documented in
 * docs/observability.md.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AgentEvents } from '../agent/agent.js';
import { profileHealth } from './health.js';
import type { AgentView } from './status-document.js';

export const METRIC_PREFIX = 'rolesanywhere_agent_';

/** CreateSession latency buckets, seconds: a healthy call is ~0.1-0.5 s, in-call retries add seconds. */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export type ReloadResult = 'success' | 'rejected';

export interface MetricsOptions {
  /** Add Node's process metrics (CPU, memory, event loop, GC), prefixed. */
  processMetrics?: boolean;
}

const seconds = (iso: string | undefined): number | undefined => {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms / 1000;
};

export class AgentMetrics {
  readonly registry = new Registry();
  /** Give these to the Agent (AgentDeps.events). */
  readonly events: AgentEvents;
  private view: AgentView | undefined;
  private readonly reloads: Counter<'result'>;
  private readonly serveRequests: Counter<'endpoint' | 'profile' | 'outcome'>;

  constructor(o: MetricsOptions = {}) {
    const registers = [this.registry];
    const name = (n: string) => METRIC_PREFIX + n;
    const metrics = this;

    const refreshes = new Counter({
      name: name('refreshes_total'),
      help: 'CreateSession outcomes by profile: result is "success" or the error code (THROTTLED, ACCESS_DENIED, NETWORK, ...).',
      labelNames: ['profile', 'result'] as const,
      registers,
      collect() {
        // A success series from the start, so rate() and increase() see the first refresh.
        for (const s of metrics.view?.profiles() ?? []) this.inc({ profile: s.name, result: 'success' }, 0);
      },
    });
    const latency = new Histogram({
      name: name('create_session_duration_seconds'),
      help: 'CreateSession call latency by profile, in-call retries included.',
      labelNames: ['profile'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const throttled = new Counter({
      name: name('throttled_total'),
      help: 'CreateSession replies that throttled a refresh (after the in-call retries), by profile.',
      labelNames: ['profile'] as const,
      registers,
    });
    this.reloads = new Counter({
      name: name('schedule_reloads_total'),
      help: 'Schedule reloads (SIGHUP or a change of the file) by result: success, or rejected (the previous schedule kept running).',
      labelNames: ['result'] as const,
      registers,
    });
    for (const result of ['success', 'rejected'] as const) this.reloads.inc({ result }, 0);
    this.serveRequests = new Counter({
      name: name('serve_requests_total'),
      help: 'Requests to the credential endpoints (serve:) by endpoint (ecs, imds), profile ("" when the request opened none) and outcome (success, token_issued, unauthorized, forbidden, unavailable, not_found, bad_request, method_not_allowed).',
      labelNames: ['endpoint', 'profile', 'outcome'] as const,
      registers,
    });
    const rotations = new Counter({
      name: name('certificate_rotations_total'),
      help: 'Rotated certificates picked up, by what noticed the change: event (the file watcher) or poll (the watch_interval check).',
      labelNames: ['trigger'] as const,
      registers,
    });
    for (const trigger of ['event', 'poll'] as const) rotations.inc({ trigger }, 0);
    this.events = {
      rotated(trigger) {
        rotations.inc({ trigger });
      },
      refreshed(profile, result, s) {
        refreshes.inc({ profile, result });
        latency.observe({ profile }, s);
      },
      throttled(profile) {
        throttled.inc({ profile });
      },
    };

    new Counter({
      name: name('credentials_file_replaces_total'),
      help: 'Atomic replacements of the credentials file (one replace may carry several profiles).',
      registers,
      collect() {
        this.reset();
        this.inc(metrics.view?.replaceCount() ?? 0);
      },
    });

    /** A gauge recomputed from the agent's status at each scrape; profiles gone from the schedule vanish. */
    const perProfile = <L extends string>(n: string, help: string, labelNames: readonly L[], fill: (set: (labels: Record<L, string>, v: number | undefined) => void) => void) =>
      new Gauge({
        name: name(n),
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          fill((labels, v) => {
            if (v !== undefined) this.set(labels as never, v);
          });
        },
      });
    const statuses = () => this.view?.profiles() ?? [];
    perProfile('credentials_expiry_timestamp_seconds', 'When the credentials in the file expire, seconds since the epoch.', ['profile'], (set) => {
      for (const s of statuses()) set({ profile: s.name }, seconds(s.expiration));
    });
    perProfile('last_success_timestamp_seconds', 'When the last CreateSession call succeeded, seconds since the epoch.', ['profile'], (set) => {
      for (const s of statuses()) set({ profile: s.name }, seconds(s.lastSuccess));
    });
    perProfile(
      'certificate_not_after_timestamp_seconds',
      "Not-after of the profile's certificate (position 0) and of each CA certificate sent with it (1, 2, ... up the chain), seconds since the epoch.",
      ['profile', 'position', 'subject'],
      (set) => {
        for (const s of statuses()) {
          const c = s.certificate;
          if (!c?.notAfter) continue;
          set({ profile: s.name, position: '0', subject: c.subject ?? '' }, seconds(c.notAfter));
          (c.chain ?? []).forEach((x, i) => set({ profile: s.name, position: String(i + 1), subject: x.subject }, seconds(x.notAfter)));
        }
      },
    );
    perProfile('profile_healthy', '1 when the profile holds credentials valid for at least its refresh margin (as /healthz), else 0.', ['profile'], (set) => {
      const view = this.view;
      if (!view) return;
      const now = view.clock.now();
      for (const s of statuses()) set({ profile: s.name }, profileHealth(s, view.marginSeconds(s.name), now).healthy ? 1 : 0);
    });
    perProfile('profile_consecutive_failures', 'Failed refreshes since the last success.', ['profile'], (set) => {
      for (const s of statuses()) set({ profile: s.name }, s.consecutiveFailures);
    });

    // The event-loop-lag metric samples on a libuv timer at this resolution; prom-client's 10 ms
    // default woke an idle agent 100 times a second (measured: 10 ms CPU per second).
    if (o.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX, eventLoopMonitoringPrecision: 1000 });
  }

  /** Where the gauges read from; until then they are empty. */
  attach(view: AgentView): void {
    this.view = view;
  }

  /** `run` tells the outcome of each schedule reload. */
  reloaded(result: ReloadResult): void {
    this.reloads.inc({ result });
  }

  /** One request to a credential endpoint (src/serve/). */
  served(endpoint: string, profile: string, outcome: string): void {
    this.serveRequests.inc({ endpoint, profile, outcome });
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
