/**
 * `validate --config FILE`: checks the schedule, every file it names, the key material (key matches
 * certificate, dates, service rules, chain) and the ARNs — without calling AWS. Prints a table and
 * exits 0 when everything would work, 2 otherwise.
 */
import { checkScheduleInputs, formatIssues } from '../config/index.js';
import { AgentError } from '../errors.js';
import { displaySource } from '../keys/display-source.js';
import { describeCertificate, loadSigner } from '../keys/load.js';
import { keyId } from '../agent/signer-source.js';
import { checkCredentialsFile } from '../credentials-file/index.js';
import { endpointEnvProblems } from '../rolesanywhere/endpoint.js';
import { proxySettings } from '../rolesanywhere/transport.js';
import { trustPolicy } from '../agent/from-schedule.js';
import { loadScheduleOrReport, sharedDirWarning } from './agent-setup.js';
import { describeError } from './exit-codes.js';
import { parseScheduleFlags, type ScheduleCommandSpec, type ScheduleFlagName } from './schedule-flags.js';
import { EXIT, type CommandIO } from './io.js';

export const VALIDATE_FLAGS = {
  command: 'validate',
  flags: ['config', 'json', 'help'],
  description: `Checks the schedule and everything it points at without calling AWS: YAML and keys, ARNs,
durations, files, certificate and key (match, dates, X.509 v3, not a CA, digitalSignature, no
SHA-1/MD5), intermediates, the proxy variable (HTTPS_PROXY), and that the credentials file (if it
exists) is one the agent can write its profiles into: its path trusted (no directory, link or file
another user controls) and its directory writable (not a read-only mount).
Exit codes: 0 valid, 2 problems found (all listed).`,
} as const satisfies ScheduleCommandSpec<ScheduleFlagName>;

interface Row {
  profile: string;
  role: string;
  certificate: string;
  serial?: string;
  notAfter?: string;
  daysLeft?: number;
  result: string;
}

export async function validateCommand(args: string[], io: CommandIO): Promise<number> {
  const values = parseScheduleFlags(VALIDATE_FLAGS, args, io);
  if (typeof values === 'number') return values;
  const schedule = await loadScheduleOrReport(values.config, io, 'validate');
  if (typeof schedule === 'number') return schedule;
  let problems = 0;
  // A profile whose files or variables were reported here is not loaded again: one missing file
  // is one problem, not one more per profile that names it.
  const affected = new Set<string>();
  const inputIssues = await checkScheduleInputs(schedule, { env: io.env, affected });
  if (inputIssues.length) {
    problems += inputIssues.length;
    io.stderr.write(`${formatIssues(inputIssues)}\n`);
  }
  try {
    proxySettings(io.env);
  } catch (e) {
    problems++;
    io.stderr.write(`environment: ${describeError(e)}\n`);
  }
  // Only a profile without endpoint: uses these variables; a schedule that sets one everywhere is fine.
  if (schedule.profiles.some((p) => !p.endpoint)) {
    for (const e of endpointEnvProblems(io.env)) {
      problems++;
      io.stderr.write(`environment: ${describeError(e)}\n`);
    }
  }
  try {
    await checkCredentialsFile(schedule.credentialsFile, { trust: trustPolicy(schedule) });
    if (schedule.credentialsDirShared) io.stderr.write(`warning: ${sharedDirWarning(schedule.credentialsFile)}\n`);
  } catch (e) {
    problems++;
    io.stderr.write(`${describeError(e)}\n`);
  }
  const signers = new Map<string, Promise<{ ok: true; desc: ReturnType<typeof describeCertificate> } | { ok: false; error: string }>>();
  const rows: Row[] = [];
  for (const p of schedule.profiles) {
    if (affected.has(p.name)) {
      rows.push({ profile: p.name, role: p.roleArn, certificate: p.certificate, result: 'not checked further: see the problems with its files or variables above' });
      continue;
    }
    const id = keyId(p.keyMaterial);
    if (!signers.has(id)) {
      signers.set(
        id,
        loadSigner(p.keyMaterial, { env: io.env, clock: io.clock }).then(
          async (s) => {
            const desc = describeCertificate(s.certificate);
            await s.close();
            return { ok: true as const, desc };
          },
          (e: unknown) => ({ ok: false as const, error: e instanceof AgentError ? e.describe() : String(e) }),
        ),
      );
    }
    const r = await signers.get(id)!;
    const row: Row = { profile: p.name, role: p.roleArn, certificate: displaySource(p.certificate), result: r.ok ? 'ok' : r.error };
    if (r.ok) {
      row.serial = r.desc.serialDecimal;
      row.notAfter = r.desc.notAfter.toISOString();
      row.daysLeft = Math.floor((r.desc.notAfter.getTime() - io.clock.now()) / 86_400_000);
    } else problems++;
    rows.push(row);
  }
  if (values.json) {
    io.stdout.write(JSON.stringify({ valid: problems === 0, credentialsFile: schedule.credentialsFile, profiles: rows }, null, 2) + '\n');
  } else {
    io.stdout.write(`schedule ${schedule.source.path}: ${schedule.profiles.length} profile(s) → ${schedule.credentialsFile}\n`);
    for (const r of rows) {
      const cert = r.serial ? `serial ${r.serial}, not after ${r.notAfter} (${r.daysLeft} days)` : r.certificate;
      io.stdout.write(`${r.profile}\t${r.result === 'ok' ? 'ok' : 'PROBLEM'}\t${r.role}\t${cert}${r.result === 'ok' ? '' : `\n  ${r.result}`}\n`);
    }
    io.stdout.write(problems ? `${problems} problem(s) found\n` : 'valid: every profile can sign a CreateSession request\n');
  }
  return problems ? EXIT.BAD_INPUT : EXIT.OK;
}
