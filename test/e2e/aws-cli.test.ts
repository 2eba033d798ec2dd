/**
 * End to end with a real consumer: the Debian AWS CLI v2 runs the built CLI as `credential_process`
 * from a temporary AWS config, and `aws configure export-credentials` must print exactly the
 * credentials the emulator issued. The AWS CLI sees only the environment given here (its own
 * config, no credentials file, HOME in the temp dir), never this machine's AWS_* variables.
 */
import 'reflect-metadata';
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, MAIN, runChild } from '../cli/built-cli.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';
import { requireTools } from '../helpers/prerequisites.js';

const AWS = '/usr/bin/aws';

/** botocore splits credential_process with shlex: quote every word. */
function shellWord(s: string): string {
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

describe('the AWS CLI v2 runs credential-process as credential_process', function () {
  this.timeout(30_000);
  let w: World;
  let env: NodeJS.ProcessEnv;

  before(async function () {
    this.timeout(120_000);
    requireTools('awscli');
    ensureBuilt();
    w = await makeWorld();
    const common = [
      '--trust-anchor-arn', TRUST_ANCHOR_ARN,
      '--profile-arn', PROFILE_ARN,
      '--endpoint', w.emulator.httpsUrl!,
      '--ca-bundle', w.caBundle,
    ];
    const processLine = (args: string[]) => [process.execPath, MAIN, 'credential-process', ...args, ...common].map(shellWord).join(' ');
    const config = [
      '[profile ra-rsa]',
      'region = us-east-1',
      `credential_process = ${processLine(['--certificate', w.rsaFiles.certificate, '--private-key', w.rsaFiles.privateKey, '--intermediates', w.rsaFiles.intermediates!, '--role-arn', roleArn('app')])}`,
      '',
      '[profile ra-ec]',
      'region = us-east-1',
      `credential_process = ${processLine(['--certificate', w.ecFiles.certificate, '--private-key', w.ecFiles.privateKey, '--role-arn', roleArn('deploy')])}`,
      '',
    ].join('\n');
    const configFile = join(w.dir, 'aws-config');
    const credentialsFile = join(w.dir, 'aws-credentials');
    writeFileSync(configFile, config, { mode: 0o600 });
    writeFileSync(credentialsFile, '', { mode: 0o600 });
    env = {
      PATH: '/usr/bin:/bin',
      HOME: w.dir,
      LANG: 'C.UTF-8',
      AWS_CONFIG_FILE: configFile,
      AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
    };
  });
  after(async () => w?.cleanup());

  for (const [profile, role] of [
    ['ra-rsa', 'app'],
    ['ra-ec', 'deploy'],
  ] as const) {
    it(`aws configure export-credentials --profile ${profile} prints the credentials the emulator issued`, async () => {
      const before = w.emulator.issued.length;
      const r = await runChild(AWS, ['configure', 'export-credentials', '--profile', profile, '--format', 'process'], env, { cwd: w.dir });
      expect(r.code, `aws exit code; stderr:\n${r.stderr}`).to.equal(0);
      expect(w.emulator.issued, 'credentials issued for this call').to.have.length(before + 1);
      const issued = w.emulator.issued.at(-1)!;
      expect(issued.roleArn).to.equal(roleArn(role));
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      expect({ AccessKeyId: out['AccessKeyId'], SecretAccessKey: out['SecretAccessKey'], SessionToken: out['SessionToken'] }).to.deep.equal({
        AccessKeyId: issued.accessKeyId,
        SecretAccessKey: issued.secretAccessKey,
        SessionToken: issued.sessionToken,
      });
      expect(Date.parse(out['Expiration'] as string), 'Expiration as the AWS CLI read it').to.equal(Date.parse(issued.expiration));
      for (const secret of [issued.secretAccessKey, issued.sessionToken]) expect(r.stderr, 'the AWS CLI stderr').not.to.contain(secret);
    });
  }
});
