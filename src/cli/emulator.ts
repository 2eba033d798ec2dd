/**
 * `emulator`: runs the local CreateSession service until SIGINT/SIGTERM. Configured by a YAML/JSON
 * file (--config) and/or quickly by flags (--trust-anchor ARN=ca.pem --profile ARN --role ARN:
 * every role allowed by every profile and trusting every anchor). Prints one `scheme URL` line per
 * listener on stdout, and one line per request on stderr (never a secret).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AgentError, isAgentError } from '../errors.js';
import { isLoopback, loadEmulatorConfig, quickConfigFromFiles, startEmulator, emptyConfig, type EmulatorConfig, type RecordedRequest } from '../emulator/index.js';
import type { FaultSettings } from '../emulator/faults.js';
import { defaultErrorType } from '../emulator/service-error.js';
import { EXIT, type CommandIO } from './io.js';

export { quickConfigFromFiles } from '../emulator/index.js';

export const EMULATOR_USAGE = `Usage: rolesanywhere-agent emulator [options]

A local IAM Roles Anywhere CreateSession service that verifies signatures, certificate chains and
profile/role policy like the real one. For tests, demos and offline dry runs.

Configuration (a file, flags, or both):
  --config FILE                YAML or JSON: trustAnchors (arn, certificateFiles|certificatePem, enabled),
                               profiles (arn, roleArns, acceptRoleSessionName, durationSeconds, enabled),
                               roles (arn, trustAnchorArns), faults
  --trust-anchor ARN=CA.pem    a trust anchor and its CA certificate(s) (repeatable)
  --profile ARN                a profile allowing every --role (repeatable)
  --role ARN                   a role trusting every --trust-anchor (repeatable)
  --accept-role-session-name   the --profile entries accept roleSessionName
  --profile-duration SECONDS   the --profile entries' session duration (default 3600)

Listening:
  --host HOST                  default 127.0.0.1; anything but loopback needs --allow-remote
  --allow-remote               serve a non-loopback address
  --http-port N                HTTP on port N (0 = any free port)
  --https-port N               HTTPS on port N (0 = any free port)
                               with neither port flag, both listen on free ports; with one, only that one
  --write-ca FILE              write the CA of the HTTPS certificate (for clients' --ca-bundle)

Faults:
  --fail-next N[:STATUS]       fail the next N requests (default status 503)
  --throttle-rps R             429 ThrottlingException above R requests per second
  --latency-ms MS              delay every reply
  --drop-next N                close the next N connections without a reply
  --short-lived SECONDS        issue credentials that expire after SECONDS

Prints "http URL" / "https URL" lines on stdout, then one line per request on stderr. Stops on SIGINT/SIGTERM.
`;

function intFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new AgentError('ARGUMENT_INVALID', `--${name} "${value}" must be a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

function faultFlags(v: Record<string, string | boolean | string[] | undefined>): FaultSettings {
  const f: FaultSettings = {};
  const failNext = v['fail-next'] as string | undefined;
  if (failNext !== undefined) {
    const m = /^(\d+)(?::(\d{3}))?$/.exec(failNext);
    if (!m || (m[2] && (Number(m[2]) < 400 || Number(m[2]) > 599))) {
      throw new AgentError('ARGUMENT_INVALID', `--fail-next "${failNext}" must be N or N:STATUS with STATUS 400..599`);
    }
    const status = m[2] ? Number(m[2]) : 503;
    f.failNext = { count: Number(m[1]), status, errorType: defaultErrorType(status) };
  }
  const rps = v['throttle-rps'] as string | undefined;
  if (rps !== undefined) {
    if (!(Number(rps) > 0)) throw new AgentError('ARGUMENT_INVALID', `--throttle-rps "${rps}" must be a number > 0`);
    f.throttleRps = Number(rps);
  }
  const latency = intFlag('latency-ms', v['latency-ms'] as string | undefined, 0, 600_000);
  if (latency !== undefined) f.latencyMs = latency;
  const drop = intFlag('drop-next', v['drop-next'] as string | undefined, 0, 1_000_000);
  if (drop !== undefined) f.dropNext = drop;
  const short = intFlag('short-lived', v['short-lived'] as string | undefined, 1, 43_200);
  if (short !== undefined) f.shortLivedSeconds = short;
  return f;
}

function requestLine(r: RecordedRequest): string {
  const parts = [r.time.toISOString(), r.method, r.path, String(r.status || 'dropped')];
  if (!r.ok && r.errorType) parts.push(r.errorType);
  if (!r.ok && r.reason) parts.push(`(${r.reason})`);
  if (r.serial) parts.push(`serial=${r.serial}`);
  if (r.roleArn) parts.push(`role=${r.roleArn}`);
  if (r.profileArn) parts.push(`profile=${r.profileArn}`);
  return parts.join(' ') + '\n';
}

function exitFor(e: AgentError): number {
  switch (e.code) {
    case 'ARGUMENT_INVALID':
    case 'CONFIG_INVALID':
    case 'FILE_UNREADABLE':
    case 'CERTIFICATE_INVALID':
      return EXIT.BAD_INPUT;
    case 'NETWORK':
      return EXIT.UNAVAILABLE;
    default:
      return EXIT.INTERNAL;
  }
}

export async function emulatorCommand(args: string[], io: CommandIO): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(args).values;
  } catch (e) {
    io.stderr.write(`emulator: ${(e as Error).message}\n${EMULATOR_USAGE}`);
    return EXIT.BAD_INPUT;
  }
  if (values.help) {
    io.stdout.write(EMULATOR_USAGE);
    return EXIT.OK;
  }
  try {
    const host = values.host ?? '127.0.0.1';
    if (!isLoopback(host) && !values['allow-remote']) {
      throw new AgentError('ARGUMENT_INVALID', `--host ${host} is not a loopback address`, {
        hint: 'the emulator issues fake credentials to anyone who can reach it; add --allow-remote if you mean it',
      });
    }
    const httpPort = intFlag('http-port', values['http-port'], 0, 65535);
    const httpsPort = intFlag('https-port', values['https-port'], 0, 65535);
    const quickAnchors = values['trust-anchor'] ?? [];
    const quickProfiles = values.profile ?? [];
    const quickRoles = values.role ?? [];
    const anyQuick = quickAnchors.length + quickProfiles.length + quickRoles.length > 0;
    if (!values.config && !anyQuick) {
      throw new AgentError('ARGUMENT_INVALID', 'nothing to serve: give --config FILE or --trust-anchor ARN=ca.pem --profile ARN --role ARN');
    }
    const profileDuration = intFlag('profile-duration', values['profile-duration'], 900, 43_200);
    const faults = faultFlags(values);

    const config: EmulatorConfig = values.config ? await loadEmulatorConfig(values.config) : emptyConfig();
    if (anyQuick) {
      const extra: { acceptRoleSessionName?: boolean; durationSeconds?: number } = {};
      if (values['accept-role-session-name']) extra.acceptRoleSessionName = true;
      if (profileDuration !== undefined) extra.durationSeconds = profileDuration;
      const quick = await quickConfigFromFiles(quickAnchors, quickProfiles, quickRoles, extra);
      config.trustAnchors.push(...quick.trustAnchors);
      config.profiles.push(...quick.profiles);
      config.roles.push(...quick.roles);
    }
    if (Object.keys(faults).length) config.faults = { ...config.faults, ...faults };

    const opts: Parameters<typeof startEmulator>[1] = {
      clock: io.clock,
      host,
      allowRemote: values['allow-remote'] ?? false,
      onRequest: (r) => void io.stderr.write(requestLine(r)),
    };
    if (httpPort !== undefined) opts.httpPort = httpPort;
    if (httpsPort !== undefined) opts.httpsPort = httpsPort;
    if (values['write-ca'] && httpPort !== undefined && httpsPort === undefined) {
      throw new AgentError('ARGUMENT_INVALID', '--write-ca needs the HTTPS listener: add --https-port');
    }
    const emulator = await startEmulator(config, opts);
    try {
      if (values['write-ca']) {
        try {
          await writeFile(values['write-ca'], emulator.caPem, { mode: 0o644 });
        } catch (e) {
          throw new AgentError('FILE_UNREADABLE', `--write-ca ${values['write-ca']} cannot be written (${(e as NodeJS.ErrnoException).code})`, { cause: e });
        }
      }
      if (emulator.httpUrl) io.stdout.write(`http ${emulator.httpUrl}\n`);
      if (emulator.httpsUrl) io.stdout.write(`https ${emulator.httpsUrl}\n`);
      await new Promise<void>((resolve) => {
        if (io.signal.aborted) resolve();
        else io.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      await emulator.stop();
    }
    return EXIT.OK;
  } catch (e) {
    const err = isAgentError(e) ? e : new AgentError('INTERNAL', `emulator failed: ${(e as Error).message}`, { cause: e });
    io.stderr.write(`emulator: ${err.describe()}\n`);
    return exitFor(err);
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: 'string' },
      'trust-anchor': { type: 'string', multiple: true },
      profile: { type: 'string', multiple: true },
      role: { type: 'string', multiple: true },
      'accept-role-session-name': { type: 'boolean' },
      'profile-duration': { type: 'string' },
      host: { type: 'string' },
      'allow-remote': { type: 'boolean' },
      'http-port': { type: 'string' },
      'https-port': { type: 'string' },
      'write-ca': { type: 'string' },
      'fail-next': { type: 'string' },
      'throttle-rps': { type: 'string' },
      'latency-ms': { type: 'string' },
      'drop-next': { type: 'string' },
      'short-lived': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
