import { expect } from 'chai';
import { resolveCredentialsPath } from '../../src/credentials-file/path.js';
import { catchError, expectAgentError } from './helpers.js';

describe('resolveCredentialsPath', () => {
  const cases: [string, string | undefined, NodeJS.ProcessEnv, string, string][] = [
    ['takes the explicit path first', '/etc/agent/creds', { AWS_SHARED_CREDENTIALS_FILE: '/env/creds' }, '/home/u', '/etc/agent/creds'],
    ['expands ~/ in the explicit path', '~/x/creds', {}, '/home/u', '/home/u/x/creds'],
    ['takes AWS_SHARED_CREDENTIALS_FILE next', undefined, { AWS_SHARED_CREDENTIALS_FILE: '/env/creds' }, '/home/u', '/env/creds'],
    ['expands ~ in AWS_SHARED_CREDENTIALS_FILE', undefined, { AWS_SHARED_CREDENTIALS_FILE: '~/.aws/other' }, '/home/u', '/home/u/.aws/other'],
    ['ignores an empty explicit path and an empty variable', '', { AWS_SHARED_CREDENTIALS_FILE: '' }, '/home/u', '/home/u/.aws/credentials'],
    ['falls back to ~/.aws/credentials', undefined, {}, '/home/u', '/home/u/.aws/credentials'],
    ['leaves a relative path relative', 'creds', {}, '/home/u', 'creds'],
  ];
  for (const [name, explicit, env, home, expected] of cases) {
    it(name, () => expect(resolveCredentialsPath(explicit, env, home)).to.equal(expected));
  }

  it('refuses ~user, which it does not expand', () => {
    expectAgentError(catchError(() => resolveCredentialsPath('~bob/creds', {}, '/home/u')), 'ARGUMENT_INVALID', '~bob/creds');
  });

  it('refuses to guess when the home directory is unknown', () => {
    expectAgentError(catchError(() => resolveCredentialsPath(undefined, {}, '')), 'ARGUMENT_INVALID', 'home directory');
    expectAgentError(catchError(() => resolveCredentialsPath('~/x', {}, '')), 'ARGUMENT_INVALID', 'home directory');
  });
});
