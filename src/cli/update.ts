/**
 * `update --profile NAME [--once]`: a drop-in for the official helper's `update`, with the
 * `credential-process` flags. It keeps one profile of the credentials file fresh; unlike the
 * official helper it does not exit on a transient failure — it retries with backoff while the
 * current credentials are still valid — and it replaces the file atomically, touching nothing but
 * its own profile. `--once` refreshes one time and exits with the class's exit code.
 */
import { homedir } from 'node:os';
import type { AgentConfig } from '../agent/agent.js';
import { DEFAULT_RATE_LIMIT } from '../config/schedule.js';
import { profileNameProblem, resolveCredentialsPath } from '../credentials-file/index.js';
import type { LogLevel } from '../log/logger.js';
import { Redactor } from '../log/redact.js';
import { makeAgent, makeLog } from './agent-setup.js';
import { describeError, exitCodeFor, exitCodeForCode } from './exit-codes.js';
import { parseCommandFlags } from './flags.js';
import { EXIT, type CommandIO } from './io.js';
import { flagsAgentProfile, SESSION_FLAGS, SESSION_FLAGS_HELP } from './session-flags.js';

export const UPDATE_HELP = `Usage: rolesanywhere-agent update [--profile NAME] [--once] [flags]

Keeps one profile of the AWS credentials file filled with fresh credentials (a drop-in for
aws_signing_helper update). Retries transient failures with backoff while the current credentials
are valid, and rewrites the file atomically without touching any other profile.
  --profile NAME            the section to write (default "default")
  --once                    refresh one time and exit (exit codes as credential-process)
  --credentials-file FILE   else AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials

${SESSION_FLAGS_HELP}`;

export async function updateCommand(args: string[], io: CommandIO): Promise<number> {
  const err = (line: string) => io.stderr.write(`rolesanywhere-agent update: ${line}\n`);
  const values = parseCommandFlags(
    'update',
    args,
    { ...SESSION_FLAGS, profile: { type: 'string' }, once: { type: 'boolean' }, 'credentials-file': { type: 'string' } } as const,
    UPDATE_HELP,
    io,
  );
  if (typeof values === 'number') return values;
  // Before any CreateSession: the writer would refuse the name only after the call.
  const nameProblem = profileNameProblem(values.profile ?? 'default');
  if (nameProblem) {
    err(`--profile: ${nameProblem.message} — ${nameProblem.hint}`);
    return EXIT.BAD_INPUT;
  }
  let config: AgentConfig;
  const redactor = new Redactor();
  try {
    // The one builder (config/profile/): the same AgentProfile and specHash `once` makes of the same settings.
    const { profile, warnings } = flagsAgentProfile(values.profile ?? 'default', values, io.env);
    for (const w of warnings) err(`warning: ${w}`);
    if (profile.key.password?.value) redactor.add(profile.key.password.value);
    config = {
      credentialsFile: resolveCredentialsPath(values['credentials-file'], io.env, io.env['HOME'] ?? homedir()),
      profiles: [profile],
      rateLimit: DEFAULT_RATE_LIMIT,
    };
  } catch (e) {
    err(describeError(e));
    return exitCodeFor(e);
  }
  const log = makeLog(io, (values.debug ? 'debug' : 'info') as LogLevel, redactor);
  const agent = makeAgent(io, log, redactor, { watch: !values.once, unrefTimers: !!values.once });
  try {
    await agent.start(config);
    if (values.once) {
      const [result] = await agent.runOnce();
      if (result?.state === 'fresh') return EXIT.OK;
      const e = result?.lastError;
      err(e ? `${e.message}${e.hint ? ` — ${e.hint}` : ''}` : 'refresh failed');
      return e ? exitCodeForCode(e.code) : EXIT.INTERNAL;
    }
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return EXIT.OK;
  } finally {
    await agent.stop();
  }
}
