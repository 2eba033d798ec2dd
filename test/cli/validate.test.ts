import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { validateCommand } from '../../src/cli/validate.js';
import { describeCertificate } from '../../src/keys/load.js';
import { issue, writePair, type Issued } from '../helpers/pki.js';
import { captureIO } from '../helpers/io.js';
import { makeWorld, type World } from '../helpers/world.js';
import { cleanEnv, ensureBuilt, runCli } from '../agent/fixtures/agent-process.js';
import { scheduleDoc, writeSchedule } from '../agent/fixtures/schedule.js';

const FIXTURES = resolve('test/agent/fixtures/bad-schedules');

/** What `validate` prints for a schedule that does not parse: a header, then every issue indented. */
function parseFailure(file: string, issues: string[]): string {
  const n = issues.length;
  return [`rolesanywhere-agent validate: schedule ${join(FIXTURES, file)} has ${n} problem${n === 1 ? '' : 's'}:`, ...issues.map((i) => `  ${i}`), ''].join('\n');
}

const corpus: Array<{ file: string; issues: string[] }> = [
  {
    file: 'unknown-keys.yaml',
    issues: [
      'defaults.sesion_duration (line 7:3): unknown key "sesion_duration" — did you mean "session_duration"?',
      'profiles.app.rate_limit (line 11:5): unknown key "rate_limit" — "rate_limit" belongs at the top level',
      'profiles.app.private_key_password (line 12:5): unknown key "private_key_password" — the schedule holds no secrets: use private_key_password_file or private_key_password_env',
    ],
  },
  {
    file: 'bad-values.yaml',
    issues: [
      'profiles.app.role_arn (line 9:15): "arn:aws:iam::1:role" is not a valid role_arn: not an ARN (expected arn:aws:iam::111122223333:role/<name>)',
      'profiles.app.session_duration (line 10:23): 5m is outside the 15m..12h CreateSession accepts — use 15m to 12h (the Roles Anywhere profile may cap it lower)',
      'profiles.web.endpoint (line 13:15): "http://rolesanywhere.example.com" must use https — plain http is accepted only on loopback (127.0.0.1, [::1], localhost), e.g. for the local emulator',
      'profiles.web.refresh.cron (line 14:22): "61 * * * *" is not a valid cron expression: Field value (61) is out of range — five fields (minute hour day-of-month month day-of-week), e.g. "*/20 * * * *"',
      'profiles.ops.fips (line 17:11): expected true or false, got "yes" — YAML 1.2 reads yes/no/on/off as text: write true or false',
      'log_level (line 18:12): expected one of error, warn, info, debug, got "loud"',
    ],
  },
  {
    file: 'yaml-syntax.yaml',
    issues: ['schedule (line 4:1): YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]'],
  },
  {
    file: 'duplicate-profile.yaml',
    issues: [
      'profiles["my profile"] (line 9:3): "my profile" cannot be a section name in the credentials file — 1 to 64 characters of letters, digits and _ . @ + -',
      'profiles.app (line 11:3): the profile "app" is defined twice (first at line 7:3): both would write the section [app] of the credentials file — rename one, or merge the two entries',
    ],
  },
  {
    // The writer has always refused both names; validate must say so before any write is tried.
    file: 'reserved-profile-names.yaml',
    issues: [
      'profiles.__proto__ (line 9:3): "__proto__" cannot be a profile: the AWS SDK for JavaScript refuses a whole credentials file that has a [__proto__] section — choose another name',
      'profiles.DEFAULT (line 11:3): "DEFAULT" cannot be a profile: botocore and the AWS CLI read [DEFAULT] as defaults for every other profile, never as a profile of its own — choose another name, such as "default" (lower case), which is the profile the AWS tools use when none is named',
    ],
  },
  {
    file: 'unset-env.yaml',
    issues: [
      'defaults.certificate (line 2:16): ${PKI_DIR} is not set in the environment — set PKI_DIR for the agent, or give a default: ${PKI_DIR:-value}',
      'profiles.app.role_session_name (line 9:24): ${SESSION_NAME} is not set in the environment — set SESSION_NAME for the agent, or give a default: ${SESSION_NAME:-value}',
    ],
  },
];

describe('validate', () => {
  describe('a schedule that does not parse', () => {
    for (const c of corpus) {
      it(`${c.file}: exits 2 and lists each issue once with its path and line:column`, async () => {
        const io = captureIO({ HOME: '/nonexistent-home' });
        const code = await validateCommand(['--config', join(FIXTURES, c.file)], io);
        expect(io.err()).to.equal(parseFailure(c.file, c.issues));
        expect(io.out(), 'stdout').to.equal('');
        expect(code, 'exit code').to.equal(2);
      });
    }

    it('exits 2 when --config is missing or names no file', async () => {
      const none = captureIO();
      expect(await validateCommand([], none)).to.equal(2);
      expect(none.err()).to.equal('rolesanywhere-agent validate: --config FILE is required (a YAML schedule; see config/agent.example.yaml)\n');
      const gone = captureIO();
      expect(await validateCommand(['--config', join(FIXTURES, 'no-such.yaml')], gone)).to.equal(2);
      expect(gone.err()).to.equal(
        [
          `rolesanywhere-agent validate: schedule ${join(FIXTURES, 'no-such.yaml')} has 1 problem:`,
          `  schedule: cannot read the schedule ${join(FIXTURES, 'no-such.yaml')}: it does not exist — check the --config path and that the agent user can read it`,
          '',
        ].join('\n'),
      );
    });
  });

  it('a schedule whose files are missing and whose password variable is unset: each reported at its line, the table marks both profiles, exit 2', async () => {
    const io = captureIO({ HOME: '/nonexistent-home' });
    const code = await validateCommand(['--config', join(FIXTURES, 'missing-files.yaml')], io);
    expect(io.err().split('\n'), 'stderr').to.deep.equal([
      'defaults.certificate (line 4:16): the certificate /nonexistent/pki/host.pem does not exist — fix the path in certificate:, or create the file',
      'defaults.private_key (line 5:16): the private key /nonexistent/pki/host.key does not exist — fix the path in private_key:, or create the file',
      "profiles.db.private_key_password_env (line 13:31): the key password variable DB_KEY_PASSWORD is not set — set DB_KEY_PASSWORD in the agent's environment (e.g. the systemd unit's EnvironmentFile)",
      'profiles.db.intermediates (line 14:20): the intermediate bundle /nonexistent/pki/chain.pem does not exist — fix the path in intermediates:, or create the file',
      // The agent creates only the credentials file's own directory (aws/), never the ones above.
      "credentials file /nonexistent/aws/credentials: directory /nonexistent does not exist — create it (owned by root, not writable by group or others): the agent creates only the credentials file's own directory, and only when its parent exists",
      '',
    ]);
    const out = io.out().split('\n');
    expect(out[0]).to.equal(`schedule ${join(FIXTURES, 'missing-files.yaml')}: 2 profile(s) → /nonexistent/aws/credentials`);
    expect(out.slice(1, 5), 'table').to.deep.equal([
      'app\tPROBLEM\tarn:aws:iam::111122223333:role/app\t/nonexistent/pki/host.pem',
      '  not checked further: see the problems with its files or variables above',
      'db\tPROBLEM\tarn:aws:iam::111122223333:role/db\t/nonexistent/pki/host.pem',
      '  not checked further: see the problems with its files or variables above',
    ]);
    expect(out[5], 'summary: each missing file, unset variable and the missing credentials directory counted once').to.equal('5 problem(s) found');
    expect(code, 'exit code').to.equal(2);
  });

  describe('key material', function () {
    this.timeout(30_000);
    let w: World;
    let expired: Issued;
    before(async () => {
      w = await makeWorld();
      expired = await issue({ name: 'expired.example.test', kind: 'ec', issuer: w.ec.root, notBefore: new Date(Date.now() - 10 * 864e5), notAfter: new Date(Date.now() - 864e5) });
    });
    after(async () => w.cleanup());

    const row = (name: string, role: string, leaf: Issued) => {
      const d = describeCertificate(leaf.nodeCert);
      const days = Math.floor((d.notAfter.getTime() - Date.now()) / 86_400_000);
      return `${name}\tok\tarn:aws:iam::111122223333:role/${role}\tserial ${d.serialDecimal}, not after ${d.notAfter.toISOString()} (${days} days)`;
    };

    it('a good schedule exits 0 with one table row per profile and calls no service', async () => {
      const credentials = join(w.dir, 'good', 'credentials');
      const schedule = writeSchedule(join(w.dir, 'good.yaml'), scheduleDoc(w, credentials, { app: { role: 'app', key: w.rsaFiles }, deploy: { role: 'deploy', key: w.ecFiles } }));
      const io = captureIO({ HOME: w.dir });
      const code = await validateCommand(['--config', schedule], io);
      expect(io.err(), 'stderr').to.equal('');
      expect(io.out().split('\n')).to.deep.equal([
        `schedule ${schedule}: 2 profile(s) → ${credentials}`,
        row('app', 'app', w.rsa.leaf),
        row('deploy', 'deploy', w.ec.directLeaf),
        'valid: every profile can sign a CreateSession request',
        '',
      ]);
      expect(code, 'exit code').to.equal(0);
      expect(w.emulator.requests, 'requests to the service').to.deep.equal([]);
    });

    it('reports a proxy variable that is not a proxy URL, exit 2', async () => {
      const schedule = writeSchedule(join(w.dir, 'proxy.yaml'), scheduleDoc(w, join(w.dir, 'proxy', 'credentials'), { app: { role: 'app', key: w.rsaFiles } }));
      const io = captureIO({ HOME: w.dir, HTTPS_PROXY: 'socks5://proxy.corp:1080' });
      const code = await validateCommand(['--config', schedule], io);
      expect(io.err(), 'stderr').to.equal(
        'environment: HTTPS_PROXY is a socks5: URL; only http:// and https:// proxies are supported — set it to http://HOST:PORT (user and password, if any, before an @), or unset it to connect directly\n',
      );
      expect(io.out().split('\n')).to.deep.equal([`schedule ${schedule}: 1 profile(s) → ${join(w.dir, 'proxy', 'credentials')}`, row('app', 'app', w.rsa.leaf), '1 problem(s) found', '']);
      expect(code, 'exit code').to.equal(2);
    });

    it('reports a credentials file the agent could not write its profiles into, naming the line and the fix, exit 2', async () => {
      const credentials = join(w.dir, 'poisoned', 'credentials');
      mkdirSync(dirname(credentials), { recursive: true });
      writeFileSync(credentials, '[DEFAULT]\naws_security_token = STALETOKEN\n\n[other]\nregion = eu-west-1\n', { mode: 0o600 });
      const schedule = writeSchedule(join(w.dir, 'poisoned.yaml'), scheduleDoc(w, credentials, { app: { role: 'app', key: w.rsaFiles } }));
      const io = captureIO({ HOME: w.dir });
      const code = await validateCommand(['--config', schedule], io);
      expect(io.err(), 'stderr').to.equal(
        `credentials file ${credentials}: line 2: [DEFAULT] sets aws_security_token, which botocore would read in every profile instead of its aws_session_token — remove aws_security_token from [DEFAULT]: botocore and the AWS CLI give every profile the keys of [DEFAULT], and read this one before aws_session_token\n`,
      );
      expect(io.out().split('\n')).to.deep.equal([`schedule ${schedule}: 1 profile(s) → ${credentials}`, row('app', 'app', w.rsa.leaf), '1 problem(s) found', '']);
      expect(code, 'exit code').to.equal(2);

      writeFileSync(credentials, '[other]\nregion = eu-west-1\n');
      const fine = captureIO({ HOME: w.dir });
      expect(await validateCommand(['--config', schedule], fine), `a file it can write: ${fine.err()}`).to.equal(0);
    });

    it('reports an expired certificate and a key that does not match its certificate in the table, exit 2', async () => {
      const old = writePair(w.dir, 'expired', expired);
      const mismatch = { certificate: w.rsaFiles.certificate, privateKey: w.ecFiles.privateKey, intermediates: w.rsaFiles.intermediates! };
      const schedule = writeSchedule(
        join(w.dir, 'keys.yaml'),
        scheduleDoc(w, join(w.dir, 'keys', 'credentials'), { fine: { role: 'app', key: w.ecFiles }, old: { role: 'app', key: old }, mixed: { role: 'deploy', key: mismatch } }),
      );
      const io = captureIO({ HOME: w.dir });
      const code = await validateCommand(['--config', schedule], io);
      const notAfter = new Date(expired.nodeCert.validTo).toISOString().replace(/\.000Z$/, 'Z');
      expect(io.err(), 'stderr').to.equal('');
      expect(io.out().split('\n')).to.deep.equal([
        `schedule ${schedule}: 3 profile(s) → ${join(w.dir, 'keys', 'credentials')}`,
        row('fine', 'app', w.ec.directLeaf),
        `old\tPROBLEM\tarn:aws:iam::111122223333:role/app\t${old.certificate}`,
        `  certificate ${old.certificate} expired ${notAfter} — renew it or point certificate: at the new file`,
        `mixed\tPROBLEM\tarn:aws:iam::111122223333:role/deploy\t${mismatch.certificate}`,
        `  private key ${mismatch.privateKey} does not match certificate ${mismatch.certificate} — point private_key at the key this certificate was issued for, or certificate at the certificate issued for this key`,
        '2 problem(s) found',
        '',
      ]);
      expect(code, 'exit code').to.equal(2);

      const json = captureIO({ HOME: w.dir });
      expect(await validateCommand(['--config', schedule, '--json'], json)).to.equal(2);
      const parsed = JSON.parse(json.out()) as { valid: boolean; profiles: Array<{ profile: string; result: string; daysLeft?: number }> };
      expect(parsed.valid).to.equal(false);
      expect(parsed.profiles.map((p) => [p.profile, p.result === 'ok'])).to.deep.equal([
        ['fine', true],
        ['old', false],
        ['mixed', false],
      ]);
      expect(w.emulator.requests, 'requests to the service').to.deep.equal([]);
    });

    it('as a process: exit 2 and every issue once for a bad schedule, exit 0 for a good one', async function () {
      ensureBuilt();
      const bad = await runCli(['validate', '--config', join(FIXTURES, 'unknown-keys.yaml')], cleanEnv(w.dir));
      expect(bad.stderr).to.equal(parseFailure('unknown-keys.yaml', corpus[0]!.issues));
      expect(bad.code, 'exit code').to.equal(2);
      const schedule = writeSchedule(join(w.dir, 'proc.yaml'), scheduleDoc(w, join(w.dir, 'proc', 'credentials'), { app: { role: 'app', key: w.rsaFiles } }));
      const good = await runCli(['validate', '--config', schedule], cleanEnv(w.dir));
      expect(good.stdout.split('\n')[1]).to.equal(row('app', 'app', w.rsa.leaf));
      expect(good.code, `exit code; stderr: ${good.stderr}`).to.equal(0);
    });
  });
});
