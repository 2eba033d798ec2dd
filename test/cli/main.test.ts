/**
 * The built CLI as users and the AWS CLI run it: `node dist/src/main.js …` in a child process with
 * a clean environment. Checks the top-level options, the exit code of an unknown command, that the
 * exit code of a command reaches the process, and one real credential-process call whose stdout is
 * nothing but the JSON line.
 */
import 'reflect-metadata';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/io.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';
import { ensureBuilt, ROOT, runCli } from './built-cli.js';

const COMMANDS = ['credential-process', 'run', 'once', 'validate', 'status', 'demo', 'emulator'];

describe('the built CLI (node dist/src/main.js)', function () {
  this.timeout(20_000);
  let w: World;

  before(async function () {
    this.timeout(120_000);
    ensureBuilt();
    w = await makeWorld();
  });
  after(async () => w?.cleanup());

  it('--help lists every command on stdout and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code, r.stderr).to.equal(EXIT.OK);
    expect(r.stderr).to.equal('');
    expect(r.stdout).to.match(/^Usage: rolesanywhere-agent <command> \[flags\]\n/);
    for (const c of COMMANDS) expect(r.stdout, `--help mentions ${c}`).to.match(new RegExp(`^  ${c} +\\S`, 'm'));
  });

  it('no command at all prints the usage and exits 2', async () => {
    const r = await runCli([]);
    expect(r.code).to.equal(EXIT.BAD_INPUT);
    expect(r.stdout).to.match(/^Usage: rolesanywhere-agent/);
  });

  it('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.code, r.stderr).to.equal(EXIT.OK);
    expect(r.stdout).to.equal(`rolesanywhere-agent ${version}\n`);
    expect(r.stderr).to.equal('');
  });

  it('an unknown command exits 2 with one line on stderr naming it, and nothing on stdout', async () => {
    const r = await runCli(['frobnicate', '--now']);
    expect(r.code).to.equal(EXIT.BAD_INPUT);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.equal(`rolesanywhere-agent: unknown command "frobnicate" — run 'rolesanywhere-agent --help' for the list\n`);
  });

  for (const [typed, meant] of [
    ['vaildate', 'validate'],
    ['stauts', 'status'],
    ['credential-proces', 'credential-process'],
    ['credential_process', 'credential-process'],
  ] as const) {
    it(`an unknown command close to a real one ("${typed}") suggests it`, async () => {
      const r = await runCli([typed, '--config', 'x.yaml']);
      expect(r.code, 'exit code').to.equal(EXIT.BAD_INPUT);
      expect(r.stdout, 'stdout').to.equal('');
      expect(r.stderr, 'stderr').to.equal(`rolesanywhere-agent: unknown command "${typed}" — did you mean "${meant}"? Run 'rolesanywhere-agent --help' for the list\n`);
    });
  }

  it('credential-process --help prints its flags and exit codes on stdout and exits 0', async () => {
    const r = await runCli(['credential-process', '--help']);
    expect(r.code, r.stderr).to.equal(EXIT.OK);
    expect(r.stderr).to.equal('');
    expect(r.stdout).to.match(/^Usage: rolesanywhere-agent credential-process \[flags\]/);
    for (const flag of ['--certificate', '--private-key', '--intermediates', '--trust-anchor-arn', '--profile-arn', '--role-arn', '--session-duration', '--endpoint', '--ca-bundle', '--private-key-password-file', '--debug']) {
      expect(r.stdout, `help names ${flag}`).to.contain(flag);
    }
    expect(r.stdout).to.contain('Exit codes: 0 ok, 2 bad input');
  });

  const flags = (role = 'app') => [
    'credential-process',
    '--certificate', w.ecFiles.certificate,
    '--private-key', w.ecFiles.privateKey,
    '--trust-anchor-arn', TRUST_ANCHOR_ARN,
    '--profile-arn', PROFILE_ARN,
    '--role-arn', roleArn(role),
    '--endpoint', w.emulator.httpsUrl!,
    '--ca-bundle', w.caBundle,
  ];

  it('credential-process against the emulator prints only the JSON line of the issued credentials', async () => {
    const before = w.emulator.issued.length;
    const r = await runCli(flags());
    expect(r.code, r.stderr).to.equal(EXIT.OK);
    expect(r.stderr).to.equal('');
    expect(r.stdout).to.match(/^\{[^\n]*\}\n$/);
    expect(w.emulator.issued, 'credentials issued by this call').to.have.length(before + 1);
    const issued = w.emulator.issued.at(-1)!;
    expect(JSON.parse(r.stdout)).to.deep.equal({
      Version: 1,
      AccessKeyId: issued.accessKeyId,
      SecretAccessKey: issued.secretAccessKey,
      SessionToken: issued.sessionToken,
      Expiration: issued.expiration.replace(/\.\d{3}Z$/, 'Z'),
    });
  });

  it("a refusal reaches the process's exit code (3) with nothing on stdout", async () => {
    const r = await runCli(flags('nobody'));
    expect(r.code, r.stderr).to.equal(EXIT.DENIED);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.match(/^rolesanywhere-agent credential-process: role arn:aws:iam::111122223333:role\/nobody: CreateSession failed with 403 AccessDeniedException: .*\n$/);
  });

  it('bad input reaches the exit code (2) before any request', async () => {
    const before = w.emulator.requests.length;
    const r = await runCli([...flags(), '--session-duration', 'soon']);
    expect(r.code, r.stderr).to.equal(EXIT.BAD_INPUT);
    expect(r.stdout).to.equal('');
    expect(w.emulator.requests.length, 'requests').to.equal(before);
  });
});
