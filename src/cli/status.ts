/**
 * `status --config FILE [--json]`: per profile, the credentials' expiry (from the file), the next
 * refresh, the last result or error (from the agent's state file, live while `run` is up), and the
 * certificate's not-after with the days left.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readState } from '../agent/state-file.js';
import { processAlive, readProfiles } from '../credentials-file/index.js';
import { describeCertificate, parseCertificateBundle } from '../keys/load.js';
import { loadScheduleOrReport } from './agent-setup.js';
import { EXIT, type CommandIO } from './io.js';

export const STATUS_HELP = `Usage: rolesanywhere-agent status --config FILE [--json]

Shows each profile's credentials expiry, next refresh, last result or error, and certificate
expiry. Live when an agent (run) is up; otherwise what the last run or once left behind.
Exit codes: 0 every profile holds valid credentials, 6 some do not, 2 bad schedule.`;

export interface StatusRow {
  profile: string;
  credentialsExpire?: string;
  valid: boolean;
  state?: string;
  nextRefresh?: string;
  lastSuccess?: string;
  lastError?: string;
  certificateNotAfter?: string;
  certificateDaysLeft?: number;
  certificateError?: string;
}

export async function statusCommand(args: string[], io: CommandIO): Promise<number> {
  let values;
  try {
    values = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (e) {
    io.stderr.write(`rolesanywhere-agent status: ${(e as Error).message} — see --help\n`);
    return EXIT.BAD_INPUT;
  }
  if (values.help) {
    io.stdout.write(STATUS_HELP + '\n');
    return EXIT.OK;
  }
  const schedule = await loadScheduleOrReport(values.config, io, 'status');
  if (typeof schedule === 'number') return schedule;
  const now = io.clock.now();
  const state = await readState(schedule.credentialsFile);
  const live = !!state && state.command === 'run' && processAlive(state.pid);
  let sections = new Map<string, Map<string, string>>();
  let fileError: string | undefined;
  try {
    sections = readProfiles(await readFile(schedule.credentialsFile, 'utf8'));
  } catch (e) {
    fileError = `${schedule.credentialsFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  }
  const byName = new Map((state?.profiles ?? []).map((p) => [p.name, p]));
  const rows: StatusRow[] = [];
  for (const p of schedule.profiles) {
    const keys = sections.get(p.name);
    const expText = keys?.get('x_security_token_expires');
    const exp = expText ? Date.parse(expText) : NaN;
    const row: StatusRow = { profile: p.name, valid: !!keys?.get('aws_access_key_id') && !Number.isNaN(exp) && exp > now };
    if (!Number.isNaN(exp)) row.credentialsExpire = new Date(exp).toISOString();
    const s = byName.get(p.name);
    if (s) {
      row.state = live ? s.state : `${s.state} (as of ${state!.updatedAt}, agent not running)`;
      if (live && s.nextRefresh) row.nextRefresh = s.nextRefresh;
      if (s.lastSuccess) row.lastSuccess = s.lastSuccess;
      if (s.lastError) row.lastError = `${s.lastError.code}: ${s.lastError.message}`;
    }
    if (!p.certificate.startsWith('pkcs11:')) {
      try {
        const [leaf] = parseCertificateBundle(await readFile(p.certificate, 'utf8'), p.certificate);
        if (leaf) {
          const d = describeCertificate(leaf);
          row.certificateNotAfter = d.notAfter.toISOString();
          row.certificateDaysLeft = Math.floor((d.notAfter.getTime() - now) / 86_400_000);
        }
      } catch (e) {
        row.certificateError = e instanceof Error ? e.message : String(e);
      }
    } else if (s?.certificate?.notAfter) {
      row.certificateNotAfter = s.certificate.notAfter;
      row.certificateDaysLeft = Math.floor((Date.parse(s.certificate.notAfter) - now) / 86_400_000);
    }
    rows.push(row);
  }
  if (values.json) {
    io.stdout.write(JSON.stringify({ credentialsFile: schedule.credentialsFile, live, ...(fileError ? { fileError } : {}), profiles: rows }, null, 2) + '\n');
  } else {
    io.stdout.write(`${schedule.credentialsFile} (${live ? `agent running, pid ${state!.pid}` : 'no agent running'})${fileError ? ` — ${fileError}` : ''}\n`);
    for (const r of rows) {
      const parts = [
        r.profile,
        r.valid ? `valid until ${r.credentialsExpire}` : r.credentialsExpire ? `EXPIRED ${r.credentialsExpire}` : 'NO CREDENTIALS',
        r.state ? `state ${r.state}` : undefined,
        r.nextRefresh ? `next refresh ${r.nextRefresh}` : undefined,
        r.lastError ? `last error ${r.lastError}` : undefined,
        r.certificateNotAfter ? `certificate until ${r.certificateNotAfter} (${r.certificateDaysLeft} days)` : r.certificateError ? `certificate: ${r.certificateError}` : undefined,
      ].filter(Boolean);
      io.stdout.write(parts.join('\t') + '\n');
    }
  }
  return rows.every((r) => r.valid) ? EXIT.OK : EXIT.PARTIAL;
}
