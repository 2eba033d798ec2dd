/**
 * `status --config FILE [--json]`: per profile, the credentials' expiry, the next refresh, the last
 * result or error, health, and the certificate's (and its chain's) not-after with the days left —
 * the running agent's own state: asked live from its observability listener when one is configured
 * and answers, else read from the state file the agent replaces atomically. `--json` prints the same
 * document `/status` serves (observability/status-document.ts builds both).
 */
import { trustPolicy } from '../agent/from-schedule.js';
import { latestState, type StateFile } from '../agent/state-file.js';
import type { Schedule } from '../config/index.js';
import { processAlive } from '../credentials-file/index.js';
import { healthMarginSeconds } from '../observability/health.js';
import { connectTarget, describeAddress, fetchStatus } from '../observability/status-client.js';
import { buildStatusDocument, formatStatusText, type ServeRow, type StatusDocument } from '../observability/status-document.js';
import { loadScheduleOrReport } from './agent-setup.js';
import { parseScheduleFlags, type ScheduleCommandSpec, type ScheduleFlagName } from './schedule-flags.js';
import { EXIT, type CommandIO } from './io.js';

export const STATUS_FLAGS = {
  command: 'status',
  flags: ['config', 'json', 'help'],
  description: `Shows each profile's credentials expiry, next refresh, last result or error, health, and
certificate expiry, as the agent knows them: live from a running agent (through its http
listener when configured, else its state file); otherwise what the last run or once left behind.
--json prints the document the listener serves at /status.
Exit codes: 0 every profile holds valid credentials, 6 some do not, 2 bad schedule.`,
} as const satisfies ScheduleCommandSpec<ScheduleFlagName>;

export async function statusCommand(args: string[], io: CommandIO): Promise<number> {
  const values = parseScheduleFlags(STATUS_FLAGS, args, io);
  if (typeof values === 'number') return values;
  const schedule = await loadScheduleOrReport(values.config, io, 'status');
  if (typeof schedule === 'number') return schedule;
  // The running agent's own state file; a `once` beside it keeps to its own (see state-file.ts). A
  // state file another user could have written is not followed (its http.url would be).
  const latest = await latestState(schedule.credentialsFile, processAlive, {
    trust: trustPolicy(schedule),
    onIgnored: (why) => io.stderr.write(`rolesanywhere-agent status: ignoring the state file: ${why}\n`),
  });
  const state = latest?.state;
  const live = !!latest?.live;

  let doc: StatusDocument | undefined;
  let text: string | undefined;
  // The address the running agent recorded (port 0 resolved) before the configured one.
  const address = (live && state?.http) || (schedule.http && connectTarget(schedule.http));
  if (address) {
    try {
      const answer = await fetchStatus(address);
      if (answer.document.credentialsFile !== schedule.credentialsFile) {
        throw new Error(`it serves the agent of ${answer.document.credentialsFile}, not of ${schedule.credentialsFile}`);
      }
      ({ document: doc, text } = answer);
    } catch (e) {
      if (live) io.stderr.write(`rolesanywhere-agent status: the agent's listener ${describeAddress(address)} did not answer (${(e as Error).message}); showing its state file\n`);
    }
  }
  if (!doc) {
    const now = io.clock.now();
    const byName = new Map((state?.profiles ?? []).map((p) => [p.name, p]));
    doc = buildStatusDocument({
      credentialsFile: schedule.credentialsFile,
      source: state ? 'state-file' : 'none',
      live,
      ...(state && { pid: state.pid, updatedAt: state.updatedAt }),
      now,
      profiles: schedule.profiles.map((p) => ({ name: p.name, status: byName.get(p.name), marginSeconds: healthMarginSeconds(p.refresh) })),
    });
    text = JSON.stringify(doc, null, 2) + '\n';
  }
  // A running agent's /status lists its listeners itself; the state file and the schedule are asked otherwise.
  const serve = serveRows(schedule.serve, live ? state?.serve : undefined);
  if (serve.length && !doc.serve) {
    doc = { ...doc, serve };
    text = JSON.stringify(doc, null, 2) + '\n';
  }
  io.stdout.write(values.json ? text! : formatStatusText(doc));
  return doc.profiles.every((r) => r.valid) ? EXIT.OK : EXIT.PARTIAL;
}

/** The credential endpoints: where the running agent serves them, or what the schedule configures. */
function serveRows(configured: Schedule['serve'], running: StateFile['serve']): ServeRow[] {
  if (running?.length) {
    return running.map((l) => ({ endpoint: l.endpoint, address: l.address, serving: true, ...(l.tokenDir && { tokenDir: l.tokenDir }), ...(l.profile && { profile: l.profile }) }));
  }
  const rows: ServeRow[] = [];
  if (configured?.ecs) rows.push({ endpoint: 'ecs', address: configured.ecs.listen, serving: false });
  if (configured?.imds) rows.push({ endpoint: 'imds', address: configured.imds.listen, serving: false, profile: configured.imds.profile });
  return rows;
}
