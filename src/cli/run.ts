/**
 * `run --config FILE`: the agent in the foreground (systemd and launchd run it). SIGHUP or a change
 * of the schedule file reloads it; a schedule that fails validation is rejected with its errors
 * logged while the old one keeps running. SIGTERM/SIGINT abort in-flight calls, finish the pending
 * write, release the lock and return 0 within 2 s.
 */
import { agentConfig, trustPolicy } from '../agent/from-schedule.js';
import { readState, writeState, type StateFile } from '../agent/state-file.js';
import { processAlive } from '../credentials-file/index.js';
import { ConfigError, formatIssues, loadSchedule, type Schedule, type ScheduleOverrides } from '../config/index.js';
import { toTrust } from '../credentials-file/index.js';
import { AgentError } from '../errors.js';
import { isLoopbackHost } from '../rolesanywhere/endpoint.js';
import { CertificateExpiryWarnings } from '../observability/expiry-warnings.js';
import type { LogLevel } from '../log/logger.js';
import type { AgentMetrics } from '../observability/metrics.js';
import { Redactor } from '../log/redact.js';
import type { ObservabilityServer } from '../observability/server.js';
import { agentView, liveStatusDocument } from '../observability/status-document.js';
import type { CredentialEndpoints } from '../serve/index.js';
import { systemScheduler } from '../time/scheduler.js';
import { DEFAULT_WATCH_INTERVAL_MS, RotationWatch } from '../watch/rotation.js';
import { optimiseForEndpoints, optimiseForSchedule } from './compiler.js';
import { loadScheduleOrReport, makeAgent, makeLog, scheduleLoadOptions } from './agent-setup.js';
import { parseScheduleFlags, type ScheduleCommandSpec, type ScheduleFlagName, type ScheduleFlagValues } from './schedule-flags.js';
import { EXIT, type CommandIO } from './io.js';

export const RUN_FLAGS = {
  command: 'run',
  flags: ['config', 'log-level', 'log-format', 'help'],
  description: `Runs the agent in the foreground: fills every profile of the schedule, refreshes each before it
expires, picks up rotated certificates at once, reloads on SIGHUP or when the schedule changes,
and stops cleanly on SIGTERM/SIGINT. Logs go to stderr: text on a terminal, JSON otherwise.
With serve: in the schedule it also hands the same credentials to long-running SDK clients:
an ECS-style endpoint (GET /v1/credentials/<profile>, with the token the agent writes to
<token_dir>/<profile>.token at each start) and an IMDSv2-style one for one profile.
--log-level overrides the schedule's log_level, at start and at every reload.`,
} as const satisfies ScheduleCommandSpec<ScheduleFlagName>;

/** Inside main.ts's hard stop (1.5 s after the signal), so that the state file is still saved. */
const STOP_BUDGET_MS = 1_000;
const STATE_DEBOUNCE_MS = 1_000;
/**
 * While changes keep coming (a refresh burst), the state file waits until they pause for
 * STATE_DEBOUNCE_MS, but never longer than this after the first unsaved change. Writing it every
 * second through a burst cost ~0.15-0.25 ms of CPU per refresh at 1000 profiles (status() of every
 * profile, the expiry check, ~0.8 MB of JSON and its fsync), 10-20 % of a refresh.
 */
const STATE_MAX_DELAY_MS = 5_000;
/** Certificate expiry is also checked this often, not only when a job changes (12 h sessions). */
const EXPIRY_CHECK_MS = 3_600_000;
/**
 * Quiet time after the last change in the schedule's directories before it is read: an editor's
 * write in several chunks is one change, not a rejected half file followed by the whole one.
 */
const SCHEDULE_DEBOUNCE_MS = 100;

/**
 * What run's flags change in the schedule. Built once and used by the first load and by every
 * reload, so a flag cannot hold at start and be lost at the first SIGHUP.
 */
export function runOverrides(values: ScheduleFlagValues<(typeof RUN_FLAGS.flags)[number]>): ScheduleOverrides {
  return { ...(values['log-level'] !== undefined && { logLevel: values['log-level'] }) };
}

export async function runCommand(args: string[], io: CommandIO): Promise<number> {
  const values = parseScheduleFlags(RUN_FLAGS, args, io);
  if (typeof values === 'number') return values;
  const format = values['log-format'];
  const overrides = runOverrides(values);
  const loaded = await loadScheduleOrReport(values.config, io, 'run', overrides);
  if (typeof loaded === 'number') return loaded;
  let schedule: Schedule = loaded;
  const redactor = new Redactor();
  // The schedule's log_level already holds --log-level (an override).
  const log = makeLog(io, schedule.logLevel as LogLevel, redactor, format === undefined ? undefined : format === 'json');

  // Resolved once: a state write a second must not look the owner's name up each time.
  const stateTrust = await toTrust(trustPolicy(schedule)).catch(() => trustPolicy(schedule));
  let stateTimer: NodeJS.Timeout | undefined;
  let stateWrite: Promise<void> = Promise.resolve();
  let listener: ObservabilityServer | undefined;
  let endpoints: CredentialEndpoints | undefined;
  const saveState = (profiles = agent.status()) => {
    const snapshot: StateFile = {
      version: 1,
      pid: process.pid,
      command: 'run',
      schedule: schedule.source.path,
      updatedAt: new Date(io.clock.now()).toISOString(),
      replaces: agent.replaceCount,
      profiles,
      ...(listener && { http: listener.address }),
      ...(endpoints && { serve: endpoints.listeners() }),
    };
    stateWrite = stateWrite
      .then(() => writeState(schedule.credentialsFile, snapshot, { trust: stateTrust }))
      .catch((e: unknown) => log.warn('could not write the state file', { error: String(e) }));
    return stateWrite;
  };
  const warnings = new CertificateExpiryWarnings({ clock: io.clock, log, thresholdsSeconds: schedule.certificateExpiryWarnings });
  /**
   * The schedule's settings that need no restart, applied the same way at start and at each
   * reload. What does need one stays as started: credentials_file and its owner rules (the agent
   * refuses such a reload), the http listener's address and serve: added later (both warned about).
   */
  const applySettings = (s: Schedule) => {
    log.setLevel(s.logLevel as LogLevel);
    optimiseForSchedule(s.profiles.length);
    warnings.setThresholds(s.certificateExpiryWarnings);
  };
  applySettings(schedule);
  const checkExpiry = (profiles = agent.status()) => {
    const byName = new Map(schedule.profiles.map((p) => [p.name, p]));
    warnings.check(profiles.map((s) => ({ profile: s.name, certificate: s.certificate, sessionSeconds: byName.get(s.name)?.sessionDurationSeconds ?? 0 })));
  };
  // When the first unsaved change and the latest one happened.
  let firstChange = 0;
  let lastChange = 0;
  const onChange = () => {
    // At most one state-file write a second, and through a burst only when it pauses (or after
    // STATE_MAX_DELAY_MS): with 1000 profiles each write serialises them all.
    // One status() for both: it walks every profile.
    lastChange = io.clock.now();
    if (stateTimer) return;
    firstChange = lastChange;
    const fire = () => {
      const now = io.clock.now();
      const quietAt = lastChange + STATE_DEBOUNCE_MS;
      if (quietAt > now && now < firstChange + STATE_MAX_DELAY_MS) {
        stateTimer = setTimeout(fire, Math.min(quietAt, firstChange + STATE_MAX_DELAY_MS) - now);
        return;
      }
      stateTimer = undefined;
      const profiles = agent.status();
      checkExpiry(profiles);
      void saveState(profiles);
    };
    stateTimer = setTimeout(fire, STATE_DEBOUNCE_MS);
  };
  // Metrics only when someone can scrape them: the listener starts only with an `http:` schedule
  // (never on reload), and prom-client alone is ~10 MB of a one-profile agent's ~60 MB.
  const metrics: AgentMetrics | undefined = schedule.http ? new (await import('../observability/metrics.js')).AgentMetrics({ processMetrics: true }) : undefined;
  const agent = makeAgent(io, log, redactor, { watch: true, unrefTimers: false, onChange, ...(metrics ? { events: metrics.events } : {}) });
  const view = agentView(agent, {
    clock: io.clock,
    pid: process.pid,
    credentialsFile: () => schedule.credentialsFile,
    refreshOf: (name) => schedule.profiles.find((p) => p.name === name)?.refresh,
    serve: () => endpoints?.listeners() ?? [],
  });
  metrics?.attach(view);

  const owner = await readState(schedule.credentialsFile, 'run', { trust: stateTrust });
  if (owner && owner.command === 'run' && owner.pid !== process.pid && processAlive(owner.pid)) {
    // Its state file is about to be overwritten: status would show one agent's profiles only.
    log.warn('another agent already runs for this credentials file; status will show only the one that saved its state last', {
      pid: owner.pid,
      schedule: owner.schedule,
      credentials_file: schedule.credentialsFile,
    });
  }
  try {
    await agent.start(agentConfig(schedule));
  } catch (e) {
    log.error('agent could not start', { error: e instanceof AgentError ? e.describe() : String(e) });
    await agent.stop();
    return EXIT.BAD_INPUT;
  }
  if (schedule.http && metrics) {
    // The listener is secondary: if it cannot start, the agent keeps the credentials fresh anyway.
    try {
      // Loaded only when asked for: a schedule without `http:` or `serve:` never needs their modules
      // (~0.5 MB of a one-profile run's peak RSS, bench/run-rss.ts).
      const { ObservabilityServer } = await import('../observability/server.js');
      listener = await ObservabilityServer.start(schedule.http, { document: () => liveStatusDocument(view), metrics, redactor, log });
      log.info('observability listener started', { ...listener.address, endpoints: '/metrics /healthz /status' });
      if ('host' in schedule.http && !isLoopbackHost(schedule.http.host)) {
        log.warn('the observability listener is not on loopback: its endpoints have no authentication', { listen: schedule.http.listen });
      }
      onChange();
    } catch (e) {
      log.error('observability listener not started; the agent runs without it', { error: e instanceof AgentError ? e.describe() : String(e) });
    }
  }
  if (schedule.serve) {
    optimiseForEndpoints();
    // Unlike the observability listener, consumers depend on these: an endpoint that cannot start stops the agent.
    try {
      const { CredentialEndpoints, scheduleLookups } = await import('../serve/index.js');
      endpoints = await CredentialEndpoints.start(schedule.serve, {
        cache: agent,
        clock: io.clock,
        log,
        redact: (t) => redactor.redact(t),
        secret: (t) => redactor.add(t),
        ...(metrics && { count: (e, p, o) => metrics.served(e, p, o) }),
        ...scheduleLookups(() => schedule),
      });
      for (const l of endpoints.listeners()) log.info(`${l.endpoint} credential endpoint started`, { ...l });
      onChange();
    } catch (e) {
      log.error('credential endpoints not started; stopping', { error: e instanceof AgentError ? e.describe() : String(e) });
      await agent.stop();
      await listener?.close().catch(() => {});
      return EXIT.BAD_INPUT;
    }
  }
  const expiryTimer = setInterval(() => checkExpiry(), EXPIRY_CHECK_MS);
  expiryTimer.unref();

  let reloading: Promise<boolean> = Promise.resolve(true);
  /** Resolves false when the new schedule was rejected (the old one keeps running). */
  const reload = (why: string): Promise<boolean> => {
    reloading = reloading.then(async () => {
      if (io.signal.aborted) return true;
      try {
        const next = await loadSchedule(schedule.source.path, scheduleLoadOptions(io, overrides));
        if (next.source.hash === schedule.source.hash && why !== 'SIGHUP') return true;
        const result = await agent.reload(agentConfig(next));
        if (next.http?.listen !== schedule.http?.listen) log.warn('http.listen changed; the listener keeps its address until the agent restarts', { listening: schedule.http?.listen ?? 'off', configured: next.http?.listen ?? 'off' });
        schedule = next;
        if (endpoints) await endpoints.reload(next.serve);
        else if (next.serve) log.warn('serve: was added to the schedule; the credential endpoints start at the next restart');
        applySettings(next);
        metrics?.reloaded('success');
        log.info('schedule reloaded', { reason: why, ...result });
        onChange();
        return true;
      } catch (e) {
        metrics?.reloaded('rejected');
        const detail = e instanceof ConfigError ? formatIssues(e.issues) : e instanceof AgentError ? e.describe() : String(e);
        log.error('new schedule rejected; the previous one keeps running', { reason: why, errors: detail });
        return false;
      }
    });
    return reloading;
  };
  // Watched like key material (src/watch): the directories of its symlink chain, so a ConfigMap's
  // ..data swap or a swapped parent link is seen, and a reload only when its bytes changed (chmod
  // and touch are nothing). A rejected schedule is read again when it changes once more.
  const scheduleWatch = new RotationWatch({
    paths: [schedule.source.path],
    what: 'schedule file',
    clock: io.clock,
    scheduler: systemScheduler,
    intervalMs: DEFAULT_WATCH_INTERVAL_MS,
    debounceMs: SCHEDULE_DEBOUNCE_MS,
    log,
    apply: async () => ((await reload('schedule file changed')) ? { ok: true } : { ok: false, error: 'the new schedule was rejected' }),
  });
  const offHangup = io.onHangup?.(() => void reload('SIGHUP'));

  await new Promise<void>((resolve) => {
    if (io.signal.aborted) return resolve();
    io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  log.info('stopping', { signal: String(io.signal.reason ?? 'abort') });
  offHangup?.();
  clearInterval(expiryTimer);
  const closing = Promise.all([listener?.close(), endpoints?.close()]).catch(() => {});
  listener = undefined;
  endpoints = undefined;
  const stopped = Promise.all([scheduleWatch.close(), reloading, agent.stop(), closing]).then(() => true);
  const inTime = await Promise.race([stopped, new Promise<boolean>((r) => setTimeout(() => r(false), STOP_BUDGET_MS).unref())]);
  if (stateTimer) clearTimeout(stateTimer);
  await saveState();
  if (!inTime) log.warn('shutdown took longer than expected; exiting anyway');
  log.info('stopped');
  return EXIT.OK;
}
