import 'reflect-metadata';
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError } from '../../src/errors.js';
import { loadEmulatorConfig, quickConfig, quickConfigFromFiles, startEmulator, validateConfig } from '../../src/emulator/index.js';
import { issue, makePki, type Issued, type TestPki } from '../helpers/pki.js';
import { makeTempDir } from '../helpers/tmp.js';
import { PROFILE, PROFILE2, ROLE, ROLE2, TA, TA2 } from './support.js';

async function rejection(p: Promise<unknown>): Promise<AgentError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, 'expected a rejection').to.be.instanceOf(AgentError);
  return e as AgentError;
}

describe('emulator config', () => {
  let pki: TestPki;
  let leafCert: Issued;
  let tmp: ReturnType<typeof makeTempDir>;

  before(async () => {
    pki = await makePki('ec');
    leafCert = await issue({ name: 'not a ca', kind: 'ec', issuer: pki.root });
  });
  beforeEach(() => {
    tmp = makeTempDir();
    writeFileSync(join(tmp.dir, 'root.pem'), pki.root.certPem);
  });
  afterEach(() => tmp.cleanup());

  it('loads YAML with CA files relative to the config file, inline PEM, flags and faults', async () => {
    const file = join(tmp.dir, 'emulator.yaml');
    writeFileSync(
      file,
      `# a comment
trustAnchors:
  - arn: ${TA}
    certificateFiles: [root.pem]
  - arn: ${TA2}
    enabled: false
    certificatePem: |
${pki.intermediate.certPem.trim().split('\n').map((l) => '      ' + l).join('\n')}
roles:
  - arn: ${ROLE}
    trustAnchorArns: [${TA}, ${TA2}]
profiles:
  - arn: ${PROFILE}
    roleArns: [${ROLE}]
    acceptRoleSessionName: true
    durationSeconds: 1800
faults:
  latencyMs: 10
  failNext: { count: 1, status: 503, errorType: ServiceUnavailableException }
`,
    );
    const config = await loadEmulatorConfig(file);
    expect(config.trustAnchors.map((t) => [t.arn, t.certificates.length, t.enabled])).to.deep.equal([
      [TA, 1, undefined],
      [TA2, 1, false],
    ]);
    expect(config.trustAnchors[0]!.certificates[0]).to.equal(pki.root.certPem);
    expect(config.trustAnchors[1]!.certificates[0]!.trim()).to.equal(pki.intermediate.certPem.trim());
    expect(config.profiles).to.deep.equal([{ arn: PROFILE, roleArns: [ROLE], acceptRoleSessionName: true, durationSeconds: 1800 }]);
    expect(config.faults).to.deep.equal({ latencyMs: 10, failNext: { count: 1, status: 503, errorType: 'ServiceUnavailableException' } });
  });

  it('loads the same thing written as JSON', async () => {
    const file = join(tmp.dir, 'emulator.json');
    writeFileSync(
      file,
      JSON.stringify({
        trustAnchors: [{ arn: TA, certificateFiles: ['root.pem'] }],
        roles: [{ arn: ROLE, trustAnchorArns: [TA] }],
        profiles: [{ arn: PROFILE, roleArns: [ROLE] }],
      }),
    );
    const config = await loadEmulatorConfig(file);
    expect([config.trustAnchors.length, config.roles.length, config.profiles.length]).to.deep.equal([1, 1, 1]);
  });

  it('reports every problem at once, each with its line and path', async () => {
    const file = join(tmp.dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'trustAnchors:', //                              1
        `  - arn: ${TA}`, //                              2
        '    certificateFiles: [missing.pem]', //         3
        '  - arn: arn:aws:rolesanywhere:eu-west-1:111122223333:profile/x', // 4
        '    certificatePem: "not pem"', //               5
        'roles:', //                                      6
        `  - arn: ${ROLE}`, //                            7
        `    trustAnchorArns: [${TA2}]`, //               8
        'profiles:', //                                   9
        `  - arn: ${PROFILE}`, //                         10
        `    roleArns: [${ROLE2}]`, //                    11
        '    durationSeconds: 100', //                    12
        '    colour: blue', //                            13
        'faults:', //                                     14
        '  latencyMs: -1', //                             15
        '',
      ].join('\n'),
    );
    const e = await rejection(loadEmulatorConfig(file));
    expect(e.code).to.equal('CONFIG_INVALID');
    const expected = [
      [3, 'trustAnchors[0].certificateFiles[0]', 'missing.pem cannot be read (ENOENT)'],
      [4, 'trustAnchors[1].arn', 'is not a trust-anchor ARN'],
      [5, 'trustAnchors[1].certificates[0]', 'holds no PEM CERTIFICATE block'],
      [8, 'roles[0].trustAnchorArns[0]', 'is not a trust anchor of this config'],
      [11, 'profiles[0].roleArns[0]', 'is not a role of this config'],
      [12, 'profiles[0].durationSeconds', 'from 900 to 43200'],
      [13, 'profiles[0].colour', 'unknown key'],
      [15, 'faults.latencyMs', 'must be a whole number >= 0'],
    ] as const;
    for (const [line, path, text] of expected) {
      const hit = e.message.split('\n').find((l) => l.includes(` ${path}: `));
      expect(hit, `a line for ${path} in:\n${e.message}`).to.be.a('string');
      expect(hit).to.include(text);
      if (path !== 'trustAnchors[1].certificates[0]') expect(hit).to.include(`bad.yaml:${line} `);
    }
  });

  it('reports a YAML syntax error with its line, and a missing file as unreadable', async () => {
    const file = join(tmp.dir, 'syntax.yaml');
    writeFileSync(file, 'trustAnchors:\n  - arn: [unclosed\n');
    const e = await rejection(loadEmulatorConfig(file));
    expect(e.code).to.equal('CONFIG_INVALID');
    expect(e.message).to.match(/syntax\.yaml:\d+ \(syntax\)/);
    expect((await rejection(loadEmulatorConfig(join(tmp.dir, 'none.yaml')))).code).to.equal('FILE_UNREADABLE');
  });

  it('refuses a trust anchor certificate that is not a CA', () => {
    const issues = validateConfig(quickConfig({ trustAnchors: [{ arn: TA, certificatePem: leafCert.certPem }], profileArns: [PROFILE], roleArns: [ROLE] }));
    expect(issues.map((i) => i.path)).to.deep.equal(['trustAnchors[0].certificates[0]']);
    expect(issues[0]!.message).to.include('is not a CA certificate');
  });

  it('builds the quick form: every role in every profile, trusting every anchor', async () => {
    const config = await quickConfigFromFiles([`${TA}=${join(tmp.dir, 'root.pem')}`, `${TA2}=${join(tmp.dir, 'root.pem')}`], [PROFILE, PROFILE2], [ROLE, ROLE2], {
      acceptRoleSessionName: true,
      durationSeconds: 900,
    });
    expect(config.roles).to.deep.equal([
      { arn: ROLE, trustAnchorArns: [TA, TA2] },
      { arn: ROLE2, trustAnchorArns: [TA, TA2] },
    ]);
    expect(config.profiles).to.deep.equal([
      { arn: PROFILE, roleArns: [ROLE, ROLE2], acceptRoleSessionName: true, durationSeconds: 900 },
      { arn: PROFILE2, roleArns: [ROLE, ROLE2], acceptRoleSessionName: true, durationSeconds: 900 },
    ]);
    expect(config.trustAnchors.map((t) => t.certificates)).to.deep.equal([[pki.root.certPem], [pki.root.certPem]]);
    expect((await rejection(quickConfigFromFiles([`${TA}=${join(tmp.dir, 'nope.pem')}`], [], []))).code).to.equal('FILE_UNREADABLE');
  });

  it('refuses to start on a non-loopback host unless allowed, or with an invalid config', async () => {
    const good = quickConfig({ trustAnchors: [{ arn: TA, certificatePem: pki.root.certPem }], profileArns: [PROFILE], roleArns: [ROLE] });
    expect((await rejection(startEmulator(good, { host: '0.0.0.0' }))).code).to.equal('ARGUMENT_INVALID');
    const bad = { ...good, profiles: [{ arn: PROFILE, roleArns: [ROLE], durationSeconds: 5 }] };
    expect((await rejection(startEmulator(bad, { httpPort: 0 }))).code).to.equal('CONFIG_INVALID');
  });
});
