import { expect } from 'chai';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkScheduleInputs, ConfigError, formatIssues, loadSchedule } from '../../src/config/index.js';
import { makeTempDir } from '../helpers/tmp.js';
import { PR, ROLE, TA, yaml } from './fixtures.js';

describe('loadSchedule', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    tmp = makeTempDir();
  });
  afterEach(() => tmp.cleanup());

  const schedule = yaml`
    defaults:
      certificate: pki/host.pem
      private_key: pki/host.key
      trust_anchor_arn: ${TA}
      profile_arn: ${PR}
    profiles:
      app:
        role_arn: ${ROLE}
        private_key_password_env: KEY_PASS
  `;

  it('reads the file, resolves relative paths against its directory and records its absolute path', async () => {
    const file = join(tmp.dir, 'agent.yaml');
    writeFileSync(file, '\uFEFF' + schedule);
    const s = await loadSchedule(file, { env: {}, home: '/home/agent' });
    expect(s.profiles[0]!.certificate).to.equal(join(tmp.dir, 'pki/host.pem'));
    expect(s.source.path).to.equal(file);
    expect(s.source.hash).to.match(/^[0-9a-f]{64}$/);
  });

  it('throws a ConfigError naming the file when it does not exist', async () => {
    const file = join(tmp.dir, 'missing.yaml');
    const err = await loadSchedule(file, { env: {}, home: '/home/agent' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as ConfigError).code).to.equal('CONFIG_INVALID');
    expect(formatIssues((err as ConfigError).issues)).to.equal(
      `schedule: cannot read the schedule ${file}: it does not exist — check the --config path and that the agent user can read it`,
    );
  });

  it('throws one ConfigError whose message lists every issue with its line', async () => {
    const file = join(tmp.dir, 'bad.yaml');
    writeFileSync(file, 'profiles:\n  app:\n    regoin: x\n');
    const err = (await loadSchedule(file, { env: {}, home: '/h' }).catch((e: unknown) => e)) as ConfigError;
    expect(err.message.split('\n')[0]).to.equal(`schedule ${file} has 5 problems:`);
    expect(err.message).to.contain('  profiles.app.regoin (line 3:5): unknown key "regoin" — did you mean "region"?');
    expect(err.issues, "the unknown key and the four required keys").to.have.length(5);
  });

  it('checkScheduleInputs reports missing and unreadable files and unset variables once each, at the line that named them', async () => {
    const file = join(tmp.dir, 'agent.yaml');
    writeFileSync(file, schedule.replace('profiles:\n', 'profiles:\n  other:\n    role_arn: ' + ROLE + '\n'));
    mkdirSync(join(tmp.dir, 'pki'));
    writeFileSync(join(tmp.dir, 'pki/host.pem'), 'x');
    const s = await loadSchedule(file, { env: {}, home: '/home/agent' });
    const issues = await checkScheduleInputs(s, { env: {} });
    expect(formatIssues(issues).split('\n')).to.deep.equal([
      `defaults.private_key (line 3:16): the private key ${join(tmp.dir, 'pki/host.key')} does not exist — fix the path in private_key:, or create the file`,
      `profiles.app.private_key_password_env (line 11:31): the key password variable KEY_PASS is not set — set KEY_PASS in the agent's environment (e.g. the systemd unit's EnvironmentFile)`,
    ]);
    expect(await checkScheduleInputs(s, { env: { KEY_PASS: 'x' }, readableFile: async () => {} }), 'all present').to.deep.equal([]);
  });

  it('checkScheduleInputs gives each kind of unreadable file its own fix, never "create the file" for one that exists', async () => {
    const file = join(tmp.dir, 'agent.yaml');
    writeFileSync(file, schedule);
    const s = await loadSchedule(file, { env: {}, home: '/home/agent' });
    const failWith = (code: string) => async (path: string) => {
      if (path.endsWith('host.pem')) throw Object.assign(new Error(code), { code });
    };
    const hintFor = async (code: string) => (await checkScheduleInputs(s, { env: { KEY_PASS: 'x' }, readableFile: failWith(code) }))[0]?.hint;
    expect(await hintFor('ENOENT'), 'hint for a missing file').to.equal('fix the path in certificate:, or create the file');
    expect(await hintFor('EACCES'), 'hint for a permission error').to.equal("let the agent's user read it (its owner, group or mode, and the directories above it), or fix the path in certificate:");
    expect(await hintFor('ENOTFILE'), 'hint for a directory').to.equal('point certificate: at a regular file');
    expect(await hintFor('EIO'), 'hint for another error').to.equal('check the file and the path in certificate:');
  });

  it('checkScheduleInputs names every profile a bad file or variable affects, a shared one too', async () => {
    const file = join(tmp.dir, 'agent.yaml');
    writeFileSync(file, schedule.replace('profiles:\n', 'profiles:\n  other:\n    role_arn: ' + ROLE + '\n'));
    const s = await loadSchedule(file, { env: {}, home: '/home/agent' });
    const affected = new Set<string>();
    const issues = await checkScheduleInputs(s, { env: { KEY_PASS: 'x' }, affected });
    expect(issues.length, 'issues: certificate and key, once each').to.equal(2);
    expect([...affected].sort(), 'affected profiles').to.deep.equal(['app', 'other']);
  });

  it('checkScheduleInputs says when a path is a directory or unreadable', async function () {
    const file = join(tmp.dir, 'agent.yaml');
    writeFileSync(file, schedule);
    mkdirSync(join(tmp.dir, 'pki/host.pem'), { recursive: true });
    writeFileSync(join(tmp.dir, 'pki/host.key'), 'k');
    chmodSync(join(tmp.dir, 'pki/host.key'), 0o000);
    const s = await loadSchedule(file, { env: {}, home: '/home/agent' });
    const messages = (await checkScheduleInputs(s, { env: { KEY_PASS: 'x' } })).map((i) => i.message);
    expect(messages[0]).to.equal(`the certificate ${join(tmp.dir, 'pki/host.pem')} is not a regular file`);
    if (process.getuid?.() === 0) {
      expect(messages, 'root reads any file').to.have.length(1);
    } else {
      expect(messages[1]).to.equal(`the private key ${join(tmp.dir, 'pki/host.key')} is not readable by the agent user`);
    }
  });
});
