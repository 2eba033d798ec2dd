import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onceCommand } from '../../src/cli/once.js';
import { statePathFor, type StateFile } from '../../src/agent/state-file.js';
import { captureIO } from '../helpers/io.js';
import { makeTempDir } from '../helpers/tmp.js';
import { makeWorld, roleArn, type World } from '../helpers/world.js';
import { cleanEnv, ensureBuilt, readCredentials, runCli, setInSection } from '../agent/fixtures/agent-process.js';
import { scheduleDoc, writeSchedule, type ProfileSpec } from '../agent/fixtures/schedule.js';

const ROLES = ['app', 'backup', 'deploy', 'audit', 'extra-1', 'extra-2', 'extra-3', 'extra-4'];
const DENIED_HINT =
  "check that the role's trust policy allows rolesanywhere.amazonaws.com for this trust anchor, that the profile lists the role, and that the certificate is issued by the trust anchor's CA";

describe('once', function () {
  this.timeout(30_000);
  let w: World;
  const cleanups: Array<() => void> = [];
  before(async function () {
    this.timeout(60_000);
    ensureBuilt();
    w = await makeWorld({ roles: ROLES.map(roleArn) });
  });
  after(async () => {
    cleanups.forEach((c) => c());
    await w.cleanup();
  });

  const setup = (profiles: Record<string, ProfileSpec>) => {
    const t = makeTempDir('ra-once-');
    cleanups.push(t.cleanup);
    const credentials = join(t.dir, 'aws', 'credentials');
    const schedule = writeSchedule(join(t.dir, 'schedule.yaml'), scheduleDoc(w, credentials, profiles));
    return { dir: t.dir, credentials, schedule };
  };
  const issuedFor = (role: string) => w.emulator.issued.filter((i) => i.roleArn === roleArn(role));
  const requestsFor = (role: string) => w.emulator.requests.filter((r) => r.roleArn === roleArn(role));
  const okLine = (name: string, role: string) => `${name}\tok\texpires ${new Date(issuedFor(role).at(-1)!.expiration).toISOString()}`;

  it('as a process: fills every profile, prints one line each, exits 0; a second run right after adopts them without calling the service', async () => {
    const s = setup({ web: { role: 'app', key: w.rsaFiles }, batch: { role: 'backup', key: w.ecFiles } });
    const first = await runCli(['once', '--config', s.schedule], cleanEnv(s.dir));
    expect(first.stderr, 'stderr').to.equal('');
    expect(first.stdout.split('\n')).to.deep.equal([okLine('web', 'app'), okLine('batch', 'backup'), '']);
    expect(first.code, 'exit code').to.equal(0);
    const creds = readCredentials(s.credentials);
    expect(creds.get('web')?.secretAccessKey).to.equal(issuedFor('app')[0]!.secretAccessKey);
    expect(creds.get('batch')?.sessionToken).to.equal(issuedFor('backup')[0]!.sessionToken);
    const state = JSON.parse(readFileSync(statePathFor(s.credentials, 'once'), 'utf8')) as StateFile;
    expect(state.command).to.equal('once');
    expect(state.profiles.map((p) => [p.name, p.state, p.nextRefresh])).to.deep.equal([
      ['web', 'fresh', undefined],
      ['batch', 'fresh', undefined],
    ]);
    expect(readdirSync(join(s.credentials, '..')).sort(), 'files beside the credentials file').to.deep.equal(['credentials', 'credentials.once-state.json']);

    const bytes = readFileSync(s.credentials);
    const calls = w.emulator.requests.length;
    const second = await runCli(['once', '--config', s.schedule], cleanEnv(s.dir));
    expect(second.code, `exit code; stderr: ${second.stderr}`).to.equal(0);
    expect(second.stdout, 'the same summary').to.equal(first.stdout);
    expect(w.emulator.requests.length, 'CreateSession calls made by the second run').to.equal(calls);
    expect(readFileSync(s.credentials).equals(bytes), 'the credentials file is untouched').to.equal(true);
  });

  it('exits 6 naming the refused profile and the service message, and still writes the others', async () => {
    const s = setup({ one: { role: 'deploy', key: w.rsaFiles }, refused: { role: 'not-granted', key: w.ecFiles }, two: { role: 'audit', key: w.ecFiles } });
    const io = captureIO({ HOME: s.dir });
    const code = await onceCommand(['--config', s.schedule], io);
    expect(io.out().split('\n')).to.deep.equal([
      okLine('one', 'deploy'),
      `refused\tFAILED\tACCESS_DENIED: profile "refused": CreateSession failed with 403 AccessDeniedException: Unable to assume role for ${roleArn('not-granted')}: the role does not exist — ${DENIED_HINT}`,
      okLine('two', 'audit'),
      '',
    ]);
    expect(io.err().trimEnd().split('\n').at(-1)).to.equal('rolesanywhere-agent once: 1 of 3 profile(s) failed');
    expect(code, 'exit code').to.equal(6);
    expect(requestsFor('not-granted').map((r) => [r.status, r.reason]), 'one call for the refused role, no retry').to.deep.equal([[403, 'ROLE_UNKNOWN']]);
    const creds = readCredentials(s.credentials);
    expect([...creds.keys()].sort()).to.deep.equal(['one', 'two']);
    expect(creds.get('two')?.accessKeyId).to.equal(issuedFor('audit')[0]!.accessKeyId);
  });

  it('--profile limits the work to the named profiles', async () => {
    const s = setup({ a: { role: 'extra-1', key: w.ecFiles }, b: { role: 'extra-2', key: w.ecFiles }, c: { role: 'extra-3', key: w.ecFiles } });
    const io = captureIO({ HOME: s.dir });
    const code = await onceCommand(['--config', s.schedule, '--profile', 'c', '--profile', 'a'], io);
    expect(code, `exit code; stderr: ${io.err()}`).to.equal(0);
    expect(io.out().split('\n').map((l) => l.split('\t')[0])).to.deep.equal(['a', 'c', '']);
    expect([requestsFor('extra-1').length, requestsFor('extra-2').length, requestsFor('extra-3').length], 'calls per role').to.deep.equal([1, 0, 1]);
    expect([...readCredentials(s.credentials).keys()].sort()).to.deep.equal(['a', 'c']);

    const unknown = captureIO({ HOME: s.dir });
    expect(await onceCommand(['--config', s.schedule, '--profile', 'zzz'], unknown), 'exit code for an unknown profile').to.equal(2);
    expect(unknown.err()).to.equal(
      `rolesanywhere-agent once: schedule ${s.schedule} has 1 problem:\n  overrides.only_profiles: no profile named "zzz" in the schedule — profiles: a, b, c\n`,
    );
  });

  it('refreshes a profile whose credentials are due or were edited by hand, and keeps the one that is still fresh', async () => {
    const s = setup({ due: { role: 'app', key: w.ecFiles }, edited: { role: 'backup', key: w.ecFiles }, kept: { role: 'deploy', key: w.ecFiles } });
    expect(await onceCommand(['--config', s.schedule], captureIO({ HOME: s.dir }))).to.equal(0);
    const before = readCredentials(s.credentials);
    // As if 50 minutes had passed for "due": issued 50 minutes ago, expiring in 10 (inside the 15-minute
    // margin of its one-hour session). "edited" holds a key this schedule never wrote.
    const soon = new Date(Date.now() + 10 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const state = JSON.parse(readFileSync(statePathFor(s.credentials, 'once'), 'utf8')) as StateFile;
    state.profiles.find((p) => p.name === 'due')!.issuedAt = new Date(Date.now() - 50 * 60_000).toISOString();
    writeFileSync(statePathFor(s.credentials, 'once'), JSON.stringify(state));
    const text = setInSection(readFileSync(s.credentials, 'utf8'), 'due', 'x_security_token_expires', soon);
    writeFileSync(s.credentials, setInSection(text, 'edited', 'aws_access_key_id', 'ASIAHANDEDITED000000'));

    const calls = { app: requestsFor('app').length, backup: requestsFor('backup').length, deploy: requestsFor('deploy').length };
    const io = captureIO({ HOME: s.dir });
    expect(await onceCommand(['--config', s.schedule, '--json'], io), `exit code; stderr: ${io.err()}`).to.equal(0);
    expect(
      { app: requestsFor('app').length - calls.app, backup: requestsFor('backup').length - calls.backup, deploy: requestsFor('deploy').length - calls.deploy },
      'calls made by the second run, per role',
    ).to.deep.equal({ app: 1, backup: 1, deploy: 0 });
    const after = readCredentials(s.credentials);
    expect(after.get('kept')).to.deep.equal(before.get('kept'));
    expect(after.get('due')?.accessKeyId).to.equal(issuedFor('app').at(-1)!.accessKeyId);
    expect(after.get('edited')?.accessKeyId).to.equal(issuedFor('backup').at(-1)!.accessKeyId);
    const summary = JSON.parse(io.out()) as Array<{ name: string; state: string; refreshes: number }>;
    expect(summary.map((p) => [p.name, p.state, p.refreshes])).to.deep.equal([
      ['due', 'fresh', 1],
      ['edited', 'fresh', 1],
      ['kept', 'fresh', 0],
    ]);
  });

  it('exits 2 for a proxy variable that is not a proxy URL, naming it, calling nothing and writing nothing', async () => {
    const s = setup({ web: { role: 'app', key: w.rsaFiles } });
    const io = captureIO({ HOME: s.dir, https_proxy: 'socks5://proxy.corp:1080' });
    const calls = w.emulator.requests.length;
    const code = await onceCommand(['--config', s.schedule], io);
    expect(io.err()).to.equal(
      'rolesanywhere-agent once: could not start: https_proxy is a socks5: URL; only http:// and https:// proxies are supported — set it to http://HOST:PORT (user and password, if any, before an @), or unset it to connect directly\n',
    );
    expect(io.out(), 'stdout').to.equal('');
    expect(code, 'exit code').to.equal(2);
    expect(w.emulator.requests.length, 'CreateSession calls').to.equal(calls);
    expect(existsSync(s.credentials), 'credentials file').to.equal(false);
  });

  it('exits 2 for a schedule that fails validation, writing nothing', async () => {
    const t = makeTempDir('ra-once-');
    cleanups.push(t.cleanup);
    const schedule = join(t.dir, 'bad.yaml');
    writeFileSync(schedule, `credentials_file: ${join(t.dir, 'aws', 'credentials')}\nprofiles:\n  app:\n    role_arn: ${roleArn('app')}\n    regoin: eu-west-1\n`);
    const io = captureIO({ HOME: t.dir });
    const code = await onceCommand(['--config', schedule], io);
    expect(io.err().split('\n')).to.deep.equal([
      `rolesanywhere-agent once: schedule ${schedule} has 4 problems:`,
      '  profiles.app.certificate (line 3:3): certificate is required and neither this profile nor defaults: sets it — add certificate: /etc/pki/agent/host.pem',
      '  profiles.app.trust_anchor_arn (line 3:3): trust_anchor_arn is required and neither this profile nor defaults: sets it — add trust_anchor_arn: arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/<uuid>',
      '  profiles.app.profile_arn (line 3:3): profile_arn is required and neither this profile nor defaults: sets it — add profile_arn: arn:aws:rolesanywhere:eu-west-1:111122223333:profile/<uuid>',
      '  profiles.app.regoin (line 5:5): unknown key "regoin" — did you mean "region"?',
      '',
    ]);
    expect(code, 'exit code').to.equal(2);
    expect(io.out(), 'stdout').to.equal('');
    expect(existsSync(join(t.dir, 'aws')), 'credentials directory created').to.equal(false);
  });
});
