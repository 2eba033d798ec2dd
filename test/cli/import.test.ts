/**
 * `import`: the AWS config reader (botocore's rules), the shell-word splitter (shlex's rules), the
 * translation of helper command lines, and the printed schedule — which must pass parseSchedule and
 * ask CreateSession for exactly what the credential_process command line asked for.
 */
import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { parseSchedule, type ResolvedProfile } from '../../src/config/index.js';
import { importCommand, importSchedule, parseAwsConfig, profileNameOf, shellSplit, translateCommand } from '../../src/cli/import.js';
import { EXIT } from '../../src/cli/io.js';
import { SESSION_FLAGS, sessionSettings } from '../../src/cli/session-flags.js';
import { captureIO } from '../helpers/io.js';
import { makeTempDir } from '../helpers/tmp.js';

const TA = 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/6f1c3a52-8a7e-4c1d-9a6e-2d4b8f0e1a11';
const PA = 'arn:aws:rolesanywhere:eu-west-1:111122223333:profile/0b9d2e47-3c5f-4e8a-b1d2-7f6a5c4e3d22';
const role = (n: string) => `arn:aws:iam::111122223333:role/${n}`;
const base = `--trust-anchor-arn ${TA} --profile-arn ${PA}`;
const deps = { env: {}, home: '/home/u' };

describe('import: reading the AWS config file like botocore', () => {
  it('reads [default] and [profile NAME] sections with = or : separators and lower-cased keys', () => {
    const s = parseAwsConfig('[default]\nRegion = eu-west-1\n[profile dev]\ncredential_process: helper run\n');
    expect(s.map((x) => [x.header, x.line, x.values])).to.deep.equal([
      ['default', 1, { region: 'eu-west-1' }],
      ['profile dev', 3, { credential_process: 'helper run' }],
    ]);
  });

  it('treats # and ; as comments only at the start of a line, so an inline # stays in the value', () => {
    const s = parseAwsConfig('# top\n[default]\n  ; indented comment\ncredential_process = helper --certificate /p/a#b.pem ; tail\n');
    expect(s[0]!.values).to.deep.equal({ credential_process: 'helper --certificate /p/a#b.pem ; tail' });
  });

  it('joins indented continuation lines with newlines, and handles CRLF and a byte order mark', () => {
    const s = parseAwsConfig('\uFEFF[profile a]\r\ncredential_process = helper\r\n   --flag x\r\nregion = r\r\n');
    expect(s[0]!.values).to.deep.equal({ credential_process: 'helper\n--flag x', region: 'r' });
  });

  it('keeps a value going over a blank line, and ends it at a line no deeper than its key (botocore, not "any indented line")', () => {
    const s = parseAwsConfig('[profile a]\n  region = r\n  credential_process = helper\n    --one\n\n    --two\n  output = json\n');
    expect(s[0]!.values).to.deep.equal({ region: 'r', credential_process: 'helper\n--one\n\n--two', output: 'json' });
  });

  const names: [string, string | undefined][] = [
    ['default', 'default'],
    ['profile dev', 'dev'],
    ['profile   team.prod', 'team.prod'],
    ['profile "my app"', 'my app'],
    ['sso-session corp', undefined],
    ['services local', undefined],
    ['profile', undefined],
    ['profilex dev', undefined],
    ['profile a b', undefined],
  ];
  for (const [header, name] of names) {
    it(`section [${header}] is ${name === undefined ? 'not a profile' : `profile "${name}"`}`, () => {
      expect(profileNameOf(header)).to.equal(name);
    });
  }
});

describe('import: splitting credential_process like shlex.split', () => {
  const cases: [string, string[]][] = [
    ['helper  credential-process   --a 1', ['helper', 'credential-process', '--a', '1']],
    [`helper --certificate '/p/my cert.pem'`, ['helper', '--certificate', '/p/my cert.pem']],
    [`helper --certificate "/p/my \\"x\\" \\\\ \\$y.pem"`, ['helper', '--certificate', '/p/my "x" \\ \\$y.pem']],
    ['helper --certificate /p/my\\ cert.pem', ['helper', '--certificate', '/p/my cert.pem']],
    [`a'b'"c"d`, ['abcd']],
    [`helper ''`, ['helper', '']],
    ['helper\n--flag\tx', ['helper', '--flag', 'x']],
  ];
  for (const [line, words] of cases) {
    it(`${JSON.stringify(line)} → ${JSON.stringify(words)}`, () => {
      expect(shellSplit(line)).to.deep.equal(words);
    });
  }
  for (const bad of [`helper 'open`, 'helper "open', 'helper \\']) {
    it(`${JSON.stringify(bad)} is refused`, () => {
      expect(() => shellSplit(bad)).to.throw();
    });
  }
});

describe('import: translating one command line', () => {
  it('maps every flag of the official helper that has a counterpart', () => {
    const t = translateCommand(
      shellSplit(
        `aws_signing_helper credential-process --certificate /c.pem --private-key=/k.pem --intermediates /i.pem ${base} --role-arn ${role('a')} ` +
          '--session-duration 900 --region eu-west-1 --endpoint https://vpce.example.com --role-session-name me --no-verify-ssl --with-proxy --reuse-pin --pkcs11-lib /lib.so',
      ),
    );
    expect(t).to.deep.include({ ok: true });
    expect(t.ok && t.values).to.deep.equal({
      certificate: '/c.pem',
      private_key: '/k.pem',
      intermediates: '/i.pem',
      trust_anchor_arn: TA,
      profile_arn: PA,
      role_arn: role('a'),
      session_duration: 900,
      region: 'eu-west-1',
      endpoint: 'https://vpce.example.com',
      role_session_name: 'me',
      no_verify_ssl: true,
      with_proxy: true,
      reuse_pin: true,
      pkcs11_lib: '/lib.so',
    });
  });

  it('maps our own extra flags too (rolesanywhere-agent credential-process, or node …/main.js)', () => {
    for (const program of ['/usr/local/bin/rolesanywhere-agent', 'node /opt/ra/dist/src/main.js']) {
      const t = translateCommand(
        shellSplit(`${program} credential-process --certificate /c.pem --private-key /k.pem --private-key-password-env PW --ca-bundle /ca.pem --fips ${base} --role-arn ${role('a')}`),
      );
      expect(t.ok && t.values, program).to.deep.equal({
        certificate: '/c.pem',
        private_key: '/k.pem',
        private_key_password_env: 'PW',
        ca_bundle: '/ca.pem',
        fips: true,
        trust_anchor_arn: TA,
        profile_arn: PA,
        role_arn: role('a'),
      });
    }
  });

  const refused: [string, RegExp, boolean][] = [
    [`aws_signing_helper credential-process --cert-selector "Key=x509Subject,Value=CN=a" ${base} --role-arn ${role('a')}`, /--cert-selector/, false],
    [`aws_signing_helper.exe credential-process --system-store-name MY ${base}`, /Windows certificate store/, false],
    [`aws_signing_helper credential-process --certificate 0x81000001 --tpm-key-password s3cret ${base}`, /TPM key file/, false],
    [`aws_signing_helper credential-process --certificate /c.pem --private-key handle:0x81000001 ${base} --role-arn ${role('a')}`, /TPM key handle \(handle:0x81000001\), which this agent does not support: .*tpm2-pkcs11.*docs\/tpm\.md/, false],
    [`aws_signing_helper credential-process --certificate /c.pem --frobnicate ${base}`, /--frobnicate/, false],
    [`aws_signing_helper credential-process --session-duration 1h --certificate /c.pem`, /whole number of seconds/, false],
    [`aws_signing_helper serve --certificate /c.pem`, /aws_signing_helper serve, not credential-process/, false],
    ['aws-vault exec dev --json', /runs aws-vault, not aws_signing_helper/, true],
  ];
  for (const [line, reason, foreign] of refused) {
    it(`refuses ${line.slice(0, 70)}… saying why`, () => {
      const t = translateCommand(shellSplit(line));
      expect(t.ok).to.equal(false);
      if (t.ok) return;
      expect(t.reason).to.match(reason);
      expect(t.foreign ?? false).to.equal(foreign);
      expect(t.reason).to.not.include('s3cret');
    });
  }

  it('never echoes a stray argument, which could be a secret', () => {
    const t = translateCommand(['aws_signing_helper', 'credential-process', '--debug', 'hunter2-secret']);
    expect(t.ok).to.equal(false);
    expect(!t.ok && t.reason).to.match(/unexpected argument \(argument 2 after credential-process\)/);
    expect(JSON.stringify(t)).to.not.include('hunter2');
  });

  it('drops a password given in argv and a PIN in a pkcs11: URI, and says where to put them instead', () => {
    const t = translateCommand(
      shellSplit(
        `aws_signing_helper credential-process --certificate "pkcs11:token=t;object=c;pin-value=4321" --private-key "pkcs11:token=t;object=k?pin-value=4321&module-name=x" --pkcs8-password hunter2 ${base} --role-arn ${role('a')}`,
      ),
    );
    expect(t.ok).to.equal(true);
    if (!t.ok) return;
    expect(t.values.certificate).to.equal('pkcs11:token=t;object=c');
    expect(t.values.private_key).to.equal('pkcs11:token=t;object=k?module-name=x');
    expect(JSON.stringify(t)).to.not.match(/4321|hunter2/);
    expect(t.notes.join('\n')).to.match(/private_key_password_file/).and.match(/pkcs11_pin_file/);
  });
});

/** What `credential-process` itself would do with the same arguments. */
function whatCredentialProcessAsks(argv: string[]) {
  const at = argv.indexOf('credential-process');
  const { values } = parseArgs({ args: argv.slice(at + 1), options: SESSION_FLAGS, strict: true });
  return sessionSettings(values, {});
}

function sameRequest(p: ResolvedProfile, argv: string[]): void {
  const s = whatCredentialProcessAsks(argv);
  const { password: _password, ...key } = s.key;
  const { password: _ours, ...ourKey } = p.keyMaterial;
  expect(ourKey, `${p.name}: key material`).to.deep.equal(key);
  expect(
    {
      trustAnchorArn: p.trustAnchorArn,
      profileArn: p.profileArn,
      roleArn: p.roleArn,
      durationSeconds: p.sessionDurationSeconds,
      roleSessionName: p.roleSessionName,
      region: s.session.region === undefined ? undefined : p.region,
      endpoint: p.endpoint,
      fips: p.fips,
      caBundle: p.caBundle,
      noVerifySsl: p.noVerifySsl,
    },
    `${p.name}: session`,
  ).to.deep.equal({
    trustAnchorArn: s.session.trustAnchorArn,
    profileArn: s.session.profileArn,
    roleArn: s.session.roleArn,
    durationSeconds: s.session.durationSeconds,
    roleSessionName: s.session.roleSessionName,
    region: s.session.region,
    endpoint: s.session.endpoint,
    fips: s.session.fips ?? false,
    caBundle: s.transport.caBundle,
    noVerifySsl: s.transport.noVerifySsl ?? false,
  });
}

interface CorpusEntry {
  name: string;
  config: string;
  /** The schedule's data (comments aside). */
  expected?: unknown;
  /** Profiles listed as not translated, with a pattern of the reason. */
  notTranslated?: Record<string, RegExp>;
  /** Strings that must appear in the printed schedule (comments included). */
  mentions?: string[];
}

const CORPUS: CorpusEntry[] = [
  {
    name: 'three profiles sharing key material: the shared values go to defaults:, the roles stay',
    config: `[default]
region = eu-west-1
credential_process = /usr/local/bin/aws_signing_helper credential-process --certificate /etc/pki/host.pem --private-key /etc/pki/host.key ${base} --role-arn ${role('app')}

[profile backup]
output = json
credential_process = aws_signing_helper credential-process --certificate /etc/pki/host.pem --private-key /etc/pki/host.key ${base} --role-arn ${role('backup')} --session-duration 43200 --role-session-name nightly

[profile team.ops]
credential_process = aws_signing_helper credential-process --private-key /etc/pki/host.key --certificate /etc/pki/host.pem ${base} --role-arn=${role('ops')}
`,
    expected: {
      defaults: { certificate: '/etc/pki/host.pem', private_key: '/etc/pki/host.key', trust_anchor_arn: TA, profile_arn: PA },
      profiles: {
        default: { role_arn: role('app') },
        backup: { role_arn: role('backup'), role_session_name: 'nightly', session_duration: '12h' },
        'team.ops': { role_arn: role('ops') },
      },
    },
  },
  {
    name: 'one profile: nothing is hoisted',
    config: `[profile only]\ncredential_process = aws_signing_helper credential-process --certificate /c.pem --private-key /k.pem ${base} --role-arn ${role('only')} --region eu-west-1\n`,
    expected: { profiles: { only: { certificate: '/c.pem', private_key: '/k.pem', trust_anchor_arn: TA, profile_arn: PA, role_arn: role('only'), region: 'eu-west-1' } } },
  },
  {
    name: 'profiles it cannot translate are listed as comments; other credential processes are left alone',
    config: `[profile good]
credential_process = aws_signing_helper credential-process --certificate /c.pem --private-key /k.pem ${base} --role-arn ${role('good')}
[profile store]
credential_process = aws_signing_helper credential-process --cert-selector file:///etc/sel.json ${base} --role-arn ${role('x')}
[profile "with space"]
credential_process = aws_signing_helper credential-process --certificate /c.pem --private-key /k.pem ${base} --role-arn ${role('x')}
[profile __proto__]
credential_process = aws_signing_helper credential-process --certificate /c.pem --private-key /k.pem ${base} --role-arn ${role('x')}
[profile badarn]
credential_process = aws_signing_helper credential-process --certificate /c.pem --private-key /k.pem ${base} --role-arn arn:aws:iam::1:role
[profile quote]
credential_process = aws_signing_helper credential-process --certificate '/c.pem
[profile vault]
credential_process = aws-vault exec dev --json
[profile static]
aws_access_key_id = AKIDEXAMPLE
`,
    expected: { profiles: { good: { certificate: '/c.pem', private_key: '/k.pem', trust_anchor_arn: TA, profile_arn: PA, role_arn: role('good') } } },
    notTranslated: {
      store: /--cert-selector/,
      'with space': /not a section name/,
      // computed: a literal __proto__ key would set the object's prototype instead
      ['__proto__']: /not a section name the agent can write: "__proto__" cannot be a profile/,
      badarn: /the schedule would refuse it: role_arn/,
      quote: /cannot be split into words/,
    },
  },
  {
    name: 'paths with spaces, quotes and a literal ${ survive as the helper saw them',
    config: `[profile odd]
credential_process = "/opt/aws tools/aws_signing_helper" credential-process --certificate "/etc/pki/my host.pem" --private-key '/etc/pki/$\{HOSTNAME}.key' ${base} --role-arn ${role('odd')} --session-duration 5400
`,
    expected: {
      profiles: { odd: { certificate: '/etc/pki/my host.pem', private_key: '/etc/pki/$${HOSTNAME}.key', trust_anchor_arn: TA, profile_arn: PA, role_arn: role('odd'), session_duration: '1h30m' } },
    },
  },
  {
    name: 'a PKCS#11 profile with our PIN flag, and one with a relative path noted',
    config: `[profile hsm]
credential_process = rolesanywhere-agent credential-process --certificate "pkcs11:token=agent;object=host" --pkcs11-lib /usr/lib/softhsm/libsofthsm2.so --pkcs11-pin-file /etc/pki/pin --reuse-pin ${base} --role-arn ${role('hsm')}
[profile rel]
credential_process = aws_signing_helper credential-process --certificate certs/a.pem --private-key /k.pem ${base} --role-arn ${role('rel')} --debug
`,
    expected: {
      defaults: { trust_anchor_arn: TA, profile_arn: PA },
      profiles: {
        hsm: { certificate: 'pkcs11:token=agent;object=host', pkcs11_lib: '/usr/lib/softhsm/libsofthsm2.so', pkcs11_pin_file: '/etc/pki/pin', reuse_pin: true, role_arn: role('hsm') },
        rel: { certificate: 'certs/a.pem', private_key: '/k.pem', role_arn: role('rel') },
      },
    },
    mentions: ['# rel: certificate "certs/a.pem" is relative', '# rel: --debug dropped'],
  },
];

describe('import: the printed schedule (corpus)', () => {
  for (const c of CORPUS) {
    it(c.name, () => {
      const r = importSchedule(c.config, '/home/u/.aws/config', deps);
      expect(r.yaml, 'a schedule was printed').to.be.a('string');
      const yaml = r.yaml!;
      expect(parseYaml(yaml)).to.deep.equal(c.expected);
      const schedule = parseSchedule(yaml, 'imported', deps);
      expect(schedule.profiles.map((p) => p.name)).to.deep.equal(Object.keys((c.expected as { profiles: object }).profiles));
      const commands = new Map(parseAwsConfig(c.config).map((s) => [profileNameOf(s.header), s.values['credential_process']]));
      for (const p of schedule.profiles) {
        if (!yaml.includes(`# ${p.name}: its key password`) && !p.certificate.includes('pin-value')) sameRequest(p, shellSplit(commands.get(p.name)!));
      }
      const listed = r.skipped.filter((s) => !s.foreign);
      expect(listed.map((s) => s.name), 'profiles not translated').to.deep.equal(Object.keys(c.notTranslated ?? {}));
      for (const [name, reason] of Object.entries(c.notTranslated ?? {})) {
        expect(listed.find((s) => s.name === name)!.reason).to.match(reason);
        expect(yaml).to.include(`# - profile "${name}"`);
      }
      for (const m of c.mentions ?? []) expect(yaml).to.include(m);
      expect(yaml, 'other credential processes are not listed').to.not.include('vault');
    });
  }
});

describe('import command', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  beforeEach(() => (tmp = makeTempDir()));
  afterEach(() => tmp.cleanup());

  const config = `[default]\ncredential_process = aws_signing_helper credential-process --certificate /c.pem --private-key /k.pem --pkcs8-password hunter2 ${base} --role-arn ${role('a')}\n`;

  it('reads ~/.aws/config by default, prints the schedule on stdout and notes on stderr, never the password', async () => {
    mkdirSync(join(tmp.dir, '.aws'));
    writeFileSync(join(tmp.dir, '.aws', 'config'), config);
    const io = captureIO({ HOME: tmp.dir });
    const code = await importCommand([], io);
    expect(code, io.err()).to.equal(EXIT.OK);
    expect(parseSchedule(io.out(), 'out', { env: {}, home: tmp.dir }).profiles[0]!.roleArn).to.equal(role('a'));
    expect(io.out()).to.include('private_key_password_file');
    expect(io.err()).to.match(/1 profile\(s\) translated/);
    expect(io.out() + io.err()).to.not.include('hunter2');
  });

  it('takes $AWS_CONFIG_FILE, and --config-file over it', async () => {
    const a = join(tmp.dir, 'a');
    const b = join(tmp.dir, 'b');
    writeFileSync(a, config);
    writeFileSync(b, config.replace(role('a'), role('b')));
    const io1 = captureIO({ HOME: tmp.dir, AWS_CONFIG_FILE: a });
    expect(await importCommand([], io1)).to.equal(EXIT.OK);
    expect(io1.out()).to.include(role('a'));
    const io2 = captureIO({ HOME: tmp.dir, AWS_CONFIG_FILE: a });
    expect(await importCommand(['--config-file', b], io2)).to.equal(EXIT.OK);
    expect(io2.out()).to.include(role('b'));
  });

  it('exits 2 naming the file when it does not exist', async () => {
    const io = captureIO({ HOME: tmp.dir });
    expect(await importCommand(['--config-file', join(tmp.dir, 'nope')], io)).to.equal(EXIT.BAD_INPUT);
    expect(io.err()).to.equal(`rolesanywhere-agent import: the AWS config file ${join(tmp.dir, 'nope')} does not exist — give its path with --config-file\n`);
    expect(io.out()).to.equal('');
  });

  it('exits 2 with nothing on stdout when no profile can be taken over', async () => {
    const f = join(tmp.dir, 'config');
    writeFileSync(f, '[profile v]\ncredential_process = aws-vault exec v --json\n[profile s]\ncredential_process = aws_signing_helper credential-process --cert-selector x\n');
    const io = captureIO({ HOME: tmp.dir });
    expect(await importCommand(['--config-file', f], io)).to.equal(EXIT.BAD_INPUT);
    expect(io.out()).to.equal('');
    expect(io.err()).to.match(/profile "v" left alone: its credential_process runs aws-vault/);
    expect(io.err()).to.match(/profile "s" not translated: .*--cert-selector/);
    expect(io.err()).to.match(/no profile in .* runs 'aws_signing_helper credential-process'/);
  });

  it('--help prints the usage and exits 0; an unknown flag exits 2', async () => {
    const io = captureIO();
    expect(await importCommand(['--help'], io)).to.equal(EXIT.OK);
    expect(io.out()).to.match(/^Usage: rolesanywhere-agent import/);
    const io2 = captureIO();
    expect(await importCommand(['--frob'], io2)).to.equal(EXIT.BAD_INPUT);
  });
});
