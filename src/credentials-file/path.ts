/**
 * Where the credentials file is: an explicit path (the schedule's `credentials_file`), else
 * $AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials — the order the AWS SDKs use. A leading `~`
 * or `~/` expands to the given home; relative paths stay relative (to the caller's working directory).
 */
import { join } from 'node:path';
import { AgentError } from '../errors.js';

function expand(path: string, home: string, source: string): string {
  if (path === '~' || path.startsWith('~/')) {
    if (!home) {
      throw new AgentError('ARGUMENT_INVALID', `${source} "${path}" starts with "~" but the home directory is unknown`, {
        hint: 'set HOME, or give the credentials file as an absolute path',
      });
    }
    return join(home, path.slice(1));
  }
  if (path.startsWith('~')) {
    throw new AgentError('ARGUMENT_INVALID', `${source} "${path}": only "~" and "~/" are expanded, not "~user"`, {
      hint: 'give the credentials file as an absolute path',
    });
  }
  return path;
}

export function resolveCredentialsPath(explicit: string | undefined, env: NodeJS.ProcessEnv, home: string): string {
  if (explicit) return expand(explicit, home, 'credentials_file');
  const fromEnv = env['AWS_SHARED_CREDENTIALS_FILE'];
  if (fromEnv) return expand(fromEnv, home, 'AWS_SHARED_CREDENTIALS_FILE');
  if (!home) {
    throw new AgentError('ARGUMENT_INVALID', 'the home directory is unknown, so ~/.aws/credentials cannot be found', {
      hint: 'set HOME, AWS_SHARED_CREDENTIALS_FILE or credentials_file',
    });
  }
  return join(home, '.aws', 'credentials');
}
