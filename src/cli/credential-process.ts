/**
 * `credential-process`: one CreateSession, the credentials printed as the AWS `credential_process`
 * JSON on stdout and nothing else. Failures are one actionable line on stderr and an exit code per
 * class (see io.ts EXIT). A drop-in for `aws_signing_helper credential-process`.
 */
import { loadSigner } from '../keys/load.js';
import { createSession } from '../rolesanywhere/client.js';
import { makeTransport, type Transport } from '../rolesanywhere/transport.js';
import { describeError, exitCodeFor } from './exit-codes.js';
import { parseCommandFlags } from './flags.js';
import { EXIT, type CommandIO } from './io.js';
import { SESSION_FLAGS, SESSION_FLAGS_HELP, sessionSettings } from './session-flags.js';
import { AgentError } from '../errors.js';
import type { Credentials } from '../credentials.js';

export const CREDENTIAL_PROCESS_HELP = `Usage: rolesanywhere-agent credential-process [flags]

Calls IAM Roles Anywhere CreateSession once and prints the credentials in the format the AWS
CLI and SDKs expect from credential_process:
  {"Version":1,"AccessKeyId":…,"SecretAccessKey":…,"SessionToken":…,"Expiration":…}

${SESSION_FLAGS_HELP}

Exit codes: 0 ok, 2 bad input (flags, certificate, key, ARN), 3 refused by the service,
4 throttled, 5 network/TLS/service unavailable, 1 unexpected.`;

/** RFC 3339 without milliseconds, as the official helper prints it. */
export function formatExpiration(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function processOutput(c: Credentials): string {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    SessionToken: c.sessionToken,
    Expiration: formatExpiration(c.expiration),
  });
}

export async function credentialProcessCommand(args: string[], io: CommandIO): Promise<number> {
  const err = (line: string) => io.stderr.write(`rolesanywhere-agent credential-process: ${line}\n`);
  const values = parseCommandFlags('credential-process', args, SESSION_FLAGS, CREDENTIAL_PROCESS_HELP, io);
  if (typeof values === 'number') return values;
  const transportHolder: { t?: Transport } = {};
  let signer;
  try {
    const s = sessionSettings(values, io.env);
    for (const w of s.warnings) err(`warning: ${w}`);
    signer = await loadSigner(s.key, { env: io.env, clock: io.clock });
    transportHolder.t = makeTransport(s.transport, io.env);
    const debug = s.debug ? (m: string) => io.stderr.write(`[debug] ${m}\n`) : undefined;
    // No context: every line already starts with the command's name, and createSession's default
    // (`role <arn>`) says which role a refusal is about.
    const result = await createSession(signer, { ...s.session, signal: io.signal }, {
      transport: transportHolder.t,
      clock: io.clock,
      ...(debug ? { debug } : {}),
    });
    io.stdout.write(processOutput(result.credentials) + '\n');
    return EXIT.OK;
  } catch (e) {
    err(describeError(e instanceof AgentError ? e : e));
    return exitCodeFor(e);
  } finally {
    await signer?.close().catch(() => {});
    await transportHolder.t?.close().catch(() => {});
  }
}
