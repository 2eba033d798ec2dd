/**
 * `credential-process`: one CreateSession, the credentials printed as the AWS `credential_process`
 * JSON on stdout and nothing else. Failures are one actionable line on stderr and an exit code per
 * class (see io.ts EXIT). A drop-in for `aws_signing_helper credential-process`, plus `--cache`: a
 * private on-disk cache shared by parallel and repeated calls (credential-cache/cache.ts).
 *
 * The AWS CLI runs this on every command, so start-up is most of its cost: this module loads only
 * the flag table (config/profile/flag-table.ts); a call loads credential-process-call.ts (the
 * settings' readers, the builder, the cache) in one step; and the signer, key parsers and TLS
 * (session-call.ts) load only when the service must be called. main.js runs the bundle of this
 * command that `npm run build` makes (packaging/bundle.mjs).
 */
import { formatExpiration, type Credentials } from '../credentials.js';
import { describeError, exitCodeFor } from './exit-codes.js';
import { parseCommandFlags } from './flags.js';
import { EXIT, type CommandIO } from './io.js';
import { SESSION_FLAGS, SESSION_FLAGS_HELP } from '../config/profile/flag-table.js';

export const CREDENTIAL_PROCESS_HELP = `Usage: rolesanywhere-agent credential-process [flags]

Calls IAM Roles Anywhere CreateSession once and prints the credentials in the format the AWS
CLI and SDKs expect from credential_process:
  {"Version":1,"AccessKeyId":…,"SecretAccessKey":…,"SessionToken":…,"Expiration":…}

${SESSION_FLAGS_HELP}
Cache:
  --cache [DIR]                 reuse unexpired credentials from an earlier call with the same inputs,
                                and make parallel calls share one CreateSession; DIR defaults to
                                $XDG_CACHE_HOME/rolesanywhere-agent, else ~/.cache/rolesanywhere-agent
  --cache-min-remaining DUR     call again when less than this remains (default 5m; e.g. 900, 15m)

Exit codes: 0 ok, 2 bad input (flags, certificate, key, ARN, cache directory), 3 refused by the
service, 4 throttled, 5 network/TLS/service unavailable, 1 unexpected.`;

const FLAGS = {
  ...SESSION_FLAGS,
  cache: { type: 'string' },
  'cache-min-remaining': { type: 'string' },
} as const;

export function processOutput(c: Credentials): string {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    SessionToken: c.sessionToken,
    Expiration: formatExpiration(c.expiration),
  });
}

/**
 * `--cache` takes an optional value, which parseArgs cannot express: a bare `--cache` (last, or
 * followed by another flag) becomes `--cache=` (the default directory).
 */
export function withCacheDefault(args: string[]): string[] {
  return args.map((a, i) => (a === '--cache' && (i + 1 >= args.length || (args[i + 1] ?? '').startsWith('-')) ? '--cache=' : a));
}

export async function credentialProcessCommand(args: string[], io: CommandIO): Promise<number> {
  const err = (line: string) => io.stderr.write(`rolesanywhere-agent credential-process: ${line}\n`);
  const values = parseCommandFlags('credential-process', withCacheDefault(args), FLAGS, CREDENTIAL_PROCESS_HELP, io);
  if (typeof values === 'number') return values;
  try {
    // The settings' readers, the builder and the cache load only for a call, not for --help: one
    // module (one chunk of the bundle), so a cache hit waits for one load, not three in a row.
    const credentials = await (await import('./credential-process-call.js')).credentialsFor(values, io, err);
    io.stdout.write(processOutput(credentials) + '\n');
    return EXIT.OK;
  } catch (e) {
    err(describeError(e));
    return exitCodeFor(e);
  }
}
