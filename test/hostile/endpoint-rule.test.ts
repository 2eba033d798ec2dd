/**
 * One rule for the CreateSession endpoint, whatever names it: the schedule's `endpoint:`, the
 * `--endpoint` flag, AWS_ENDPOINT_URL_ROLESANYWHERE and AWS_ENDPOINT_URL. Plain http:// is for
 * loopback only (the local emulator); credentials, a query or a fragment are refused everywhere.
 * Non-loopback addresses used here are 0.0.0.0 (which connects to this machine) and names that are
 * never looked up: the rule refuses them before any connection.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentialProcessCommand } from '../../src/cli/credential-process.js';
import { validateCommand } from '../../src/cli/validate.js';
import { parseSchedule } from '../../src/config/index.js';
import { endpointUrlProblem, isLoopbackHost, resolveEndpoint } from '../../src/rolesanywhere/endpoint.js';
import { captureIO } from '../helpers/io.js';
import { makeTempDir } from '../helpers/tmp.js';
import { writePair, issue } from '../helpers/pki.js';
import { PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN } from '../helpers/world.js';

const REFUSED = [
  'http://rolesanywhere.example.com',
  'http://0.0.0.0:9',
  'http://10.1.2.3:8080/',
  'http://[::2]:80',
  'ftp://127.0.0.1/',
  'https://user:secret-pass@rolesanywhere.example.com',
  'https://rolesanywhere.example.com/?x=1',
  'not a url',
];
const ACCEPTED = ['https://rolesanywhere.eu-west-1.amazonaws.com', 'http://127.0.0.1:8080', 'http://127.0.0.2:8080', 'http://localhost:1', 'http://[::1]:9/'];

/** The verdict of each source for one URL: the problem's message, or 'ok'. */
function verdicts(url: string): Record<string, string> {
  const viaResolve = (o: { endpoint?: string; env?: NodeJS.ProcessEnv }) => {
    try {
      resolveEndpoint({ region: 'eu-west-1', partition: 'aws', ...o });
      return 'ok';
    } catch (e) {
      return (e as Error).message.replace(/^\S+ /, '');
    }
  };
  let schedule = 'ok';
  try {
    parseSchedule(
      ['defaults:', `  trust_anchor_arn: ${TRUST_ANCHOR_ARN}`, `  profile_arn: ${PROFILE_ARN}`, '  certificate: /c.pem', '  private_key: /c.key', `  endpoint: ${JSON.stringify(url)}`, 'profiles:', `  p: { role_arn: "${roleArn('app')}" }`, ''].join('\n'),
      's.yaml',
      { env: {}, home: '/home/agent' },
    );
  } catch (e) {
    schedule = ((e as { issues?: Array<{ message: string }> }).issues ?? []).map((i) => i.message).join('; ') || String(e);
  }
  return {
    schedule,
    '--endpoint': viaResolve({ endpoint: url }),
    AWS_ENDPOINT_URL_ROLESANYWHERE: viaResolve({ env: { AWS_ENDPOINT_URL_ROLESANYWHERE: url } }),
    AWS_ENDPOINT_URL: viaResolve({ env: { AWS_ENDPOINT_URL: url } }),
  };
}

describe('one rule for the endpoint URL', () => {
  for (const url of REFUSED) {
    it(`${JSON.stringify(url)} is refused by the schedule, --endpoint and both variables alike`, () => {
      const problem = endpointUrlProblem(url);
      expect(problem, 'the rule').not.to.equal(undefined);
      const v = verdicts(url);
      expect(v, 'verdict per source').to.deep.equal({ schedule: problem!.message, '--endpoint': problem!.message, AWS_ENDPOINT_URL_ROLESANYWHERE: problem!.message, AWS_ENDPOINT_URL: problem!.message });
      expect(JSON.stringify(v), 'no password quoted').not.to.contain('secret-pass');
    });
  }
  for (const url of ACCEPTED) {
    it(`${url} is accepted by every source`, () => {
      expect(verdicts(url)).to.deep.equal({ schedule: 'ok', '--endpoint': 'ok', AWS_ENDPOINT_URL_ROLESANYWHERE: 'ok', AWS_ENDPOINT_URL: 'ok' });
    });
  }

  describe('in the commands', () => {
    let tmp: ReturnType<typeof makeTempDir>;
    let pair: ReturnType<typeof writePair>;
    before(async () => {
      tmp = makeTempDir('ra-endpoint-');
      const root = await issue({ kind: 'ec', name: 'root', ca: true });
      pair = writePair(tmp.dir, 'leaf', await issue({ kind: 'ec', name: 'leaf', issuer: root }));
    });
    after(() => tmp.cleanup());

    it('credential-process --endpoint http://0.0.0.0:9 exits 2 naming the rule, without connecting', async () => {
      const io = captureIO({ HOME: tmp.dir });
      const code = await credentialProcessCommand(
        ['--certificate', pair.certificate, '--private-key', pair.privateKey, '--trust-anchor-arn', TRUST_ANCHOR_ARN, '--profile-arn', PROFILE_ARN, '--role-arn', roleArn('app'), '--endpoint', 'http://0.0.0.0:9'],
        io,
      );
      expect(io.err(), 'stderr').to.contain('endpoint "http://0.0.0.0:9" must use https').and.contain('loopback');
      expect(code, 'exit code').to.equal(2);
    });

    it('validate reports AWS_ENDPOINT_URL_ROLESANYWHERE with plain http to another host when a profile relies on it', async () => {
      const schedule = join(tmp.dir, 's.yaml');
      writeFileSync(
        schedule,
        ['defaults:', `  trust_anchor_arn: ${TRUST_ANCHOR_ARN}`, `  profile_arn: ${PROFILE_ARN}`, `  certificate: ${pair.certificate}`, `  private_key: ${pair.privateKey}`, `credentials_file: ${join(tmp.dir, 'credentials')}`, 'profiles:', `  p: { role_arn: "${roleArn('app')}" }`, ''].join('\n'),
      );
      const io = captureIO({ HOME: tmp.dir, AWS_ENDPOINT_URL_ROLESANYWHERE: 'http://rolesanywhere.example.com' });
      const code = await validateCommand(['--config', schedule], io);
      expect(io.err(), 'stderr').to.contain('environment: AWS_ENDPOINT_URL_ROLESANYWHERE "http://rolesanywhere.example.com" must use https');
      expect(code, 'exit code').to.equal(2);
    });
  });

  describe('one loopback rule for endpoints and listeners (isLoopbackHost)', () => {
    // serve:/http: listeners give a bare ::1, a URL's hostname keeps its brackets: both are loopback.
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]']) {
      it(`${host} is loopback`, () => expect(isLoopbackHost(host), host).to.equal(true));
    }
    for (const host of ['0.0.0.0', '10.0.0.1', '127.0.0', '::2', '[::2]', 'localhost.example.com', '1270.0.0.1']) {
      it(`${host} is not loopback`, () => expect(isLoopbackHost(host), host).to.equal(false));
    }
  });
});
