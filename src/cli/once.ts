/**
 * `once --config FILE [--profile NAME…]`: for cron and provisioning. Refreshes what is missing or
 * due (credentials this schedule already wrote and that are still good are kept), prints a
 * per-profile summary, and exits 0 when every selected profile is fresh, 6 otherwise.
 */
import { agentConfig, trustPolicy } from '../agent/from-schedule.js';
import { writeState } from '../agent/state-file.js';
import type { ProfileStatus } from '../agent/agent.js';
import type { LogLevel } from '../log/logger.js';
import { Redactor } from '../log/redact.js';
import { loadScheduleOrReport, makeAgent, makeLog } from './agent-setup.js';
import { describeError } from './exit-codes.js';
import { parseScheduleFlags, type ScheduleCommandSpec, type ScheduleFlagName } from './schedule-flags.js';
import { EXIT, type CommandIO } from './io.js';

export const ONCE_FLAGS = {
  command: 'once',
  flags: ['config', 'profile', 'json', 'log-level', 'help'],
  description: `Fills the credentials file once and exits: refreshes every selected profile that is missing or
due, keeps the ones that are still fresh, and prints one line per profile (--json: the list as JSON).
Logs go to stderr at level warn unless --log-level says otherwise.
Exit codes: 0 all fresh, 6 some profile failed (see the summary), 2 bad schedule or flags.`,
} as const satisfies ScheduleCommandSpec<ScheduleFlagName>;

export function summaryLine(s: ProfileStatus): string {
  if (s.state === 'fresh') return `${s.name}\tok\texpires ${s.expiration}`;
  const err = s.lastError ? `${s.lastError.code}: ${s.lastError.message}${s.lastError.hint ? ` — ${s.lastError.hint}` : ''}` : s.state;
  return `${s.name}\tFAILED\t${err}`;
}

export async function onceCommand(args: string[], io: CommandIO): Promise<number> {
  const values = parseScheduleFlags(ONCE_FLAGS, args, io);
  if (typeof values === 'number') return values;
  const level = values['log-level'] ?? 'warn';
  const only = values.profile;
  const schedule = await loadScheduleOrReport(values.config, io, 'once', only?.length ? { onlyProfiles: only } : {});
  if (typeof schedule === 'number') return schedule;
  const redactor = new Redactor();
  const log = makeLog(io, level as LogLevel, redactor);
  const agent = makeAgent(io, log, redactor, { watch: false, unrefTimers: true });
  let results: ProfileStatus[];
  // SIGTERM/SIGINT abort the calls in flight and their retry waits; the summary says what is left.
  const stop = () => void agent.stop();
  io.signal.addEventListener('abort', stop, { once: true });
  try {
    try {
      await agent.start(agentConfig(schedule));
    } catch (e) {
      // Before any refresh: the environment or the credentials file is unusable (a bad proxy
      // variable, a credentials file that cannot be read). Nothing was called or written.
      io.stderr.write(`rolesanywhere-agent once: could not start: ${describeError(e)}\n`);
      return EXIT.BAD_INPUT;
    }
    results = await agent.runOnce();
  } finally {
    io.signal.removeEventListener('abort', stop);
    await agent.stop();
  }
  await writeState(schedule.credentialsFile, {
    version: 1,
    pid: process.pid,
    command: 'once',
    schedule: schedule.source.path,
    updatedAt: new Date(io.clock.now()).toISOString(),
    // Nothing refreshes these later: a next-refresh time would be a promise nobody keeps.
    profiles: results.map(({ nextRefresh: _unused, ...r }) => r),
  }, { trust: trustPolicy(schedule) }).catch((e: unknown) => log.warn('could not write the state file', { error: String(e) }));
  if (values.json) io.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else for (const r of results) io.stdout.write(summaryLine(r) + '\n');
  const failed = results.filter((r) => r.state !== 'fresh');
  if (io.signal.aborted) io.stderr.write(`rolesanywhere-agent once: stopped by ${String(io.signal.reason ?? 'a signal')}; ${failed.length} of ${results.length} profile(s) not refreshed\n`);
  else if (failed.length) io.stderr.write(`rolesanywhere-agent once: ${failed.length} of ${results.length} profile(s) failed\n`);
  return failed.length ? EXIT.PARTIAL : EXIT.OK;
}
