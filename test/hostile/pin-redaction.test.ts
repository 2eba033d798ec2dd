/**
 * A token PIN written into a pkcs11: URI (`pin-value=`) must never be shown or stored: a PIN is
 * planted in the URIs of a schedule and of the credential-process/update flags (a real SoftHSM2
 * token, the emulator), every command that shows a key source runs, and every byte they print and
 * every file they leave is searched for it.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentialProcessCommand } from '../../src/cli/credential-process.js';
import { onceCommand } from '../../src/cli/once.js';
import { statusCommand } from '../../src/cli/status.js';
import { updateCommand } from '../../src/cli/update.js';
import { validateCommand } from '../../src/cli/validate.js';
import { buildStatusDocument, formatStatusText } from '../../src/observability/status-document.js';
import { captureIO } from '../helpers/io.js';
import { SOFTHSM_MODULE, SoftHsm } from '../helpers/softhsm.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';

const PIN = '58213907';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('a PIN written into a pkcs11: URI (pin-value)', function () {
  this.timeout(30_000);
  let w: World;
  let hsm: SoftHsm;
  let out: string;
  const shown: Array<{ where: string; text: string }> = [];

  before(async () => {
    w = await makeWorld();
    hsm = SoftHsm.create(join(w.dir, 'softhsm'));
    const token = hsm.initToken('pin-token', PIN);
    hsm.writeKey(token, w.ec.directLeaf.privateKey, { id: Buffer.from([7]), label: 'leaf' });
    hsm.writeCert(token, w.ec.directLeaf.nodeCert, { id: Buffer.from([7]), label: 'leaf' });
    out = join(w.dir, 'out');
    // The agent creates only a credentials file's own directory, under a parent that exists.
    mkdirSync(out, { mode: 0o700 });
  });
  after(async () => w?.cleanup());

  const good = `pkcs11:token=pin-token;object=leaf?pin-value=${PIN}`;
  const missing = `pkcs11:token=pin-token;object=no-such-object?pin-value=${PIN}`;
  const record = (where: string, io: { out(): string; err(): string }) => shown.push({ where: `${where} stdout`, text: io.out() }, { where: `${where} stderr`, text: io.err() });

  it('validate, once, status (text and --json) refuse a schedule with pin-value URIs, and show none of it', async () => {
    const credentials = join(w.dir, 'aws', 'credentials');
    const schedule = join(w.dir, 'pin.yaml');
    writeFileSync(
      schedule,
      [
        `credentials_file: ${credentials}`,
        'defaults:',
        `  trust_anchor_arn: ${TRUST_ANCHOR_ARN}`,
        `  profile_arn: ${PROFILE_ARN}`,
        `  endpoint: ${w.emulator.httpsUrl}`,
        `  ca_bundle: ${w.caBundle}`,
        `  pkcs11_lib: ${SOFTHSM_MODULE}`,
        'profiles:',
        `  good: { role_arn: "${roleArn('app')}", certificate: "${good}" }`,
        // No such object on the token: validate prints a PROBLEM line and its error.
        `  broken: { role_arn: "${roleArn('backup')}", certificate: "${missing}" }`,
        '',
      ].join('\n'),
    );
    const env = { HOME: w.dir, SOFTHSM2_CONF: hsm.conf };
    for (const [name, run, args] of [
      ['validate', validateCommand, []],
      ['validate --json', validateCommand, ['--json']],
      ['once', onceCommand, []],
      ['once --json', onceCommand, ['--json']],
      ['status', statusCommand, []],
      ['status --json', statusCommand, ['--json']],
    ] as const) {
      const io = captureIO(env);
      const code = await run(['--config', schedule, ...args], io);
      // The schedule holds no secrets: a PIN in a URI is refused before anything runs (issue 13).
      expect([code, io.err().includes('the pkcs11: URI holds the token PIN (pin-value=)')], `${name}: exit code and refusal`).to.deep.equal([2, true]);
      record(name, io);
    }
    expect(existsSync(join(w.dir, 'aws')), 'nothing written beside the credentials file').to.equal(false);
    // Whatever the commands left beside the credentials file is searched too.
    for (const f of filesUnder(join(w.dir, 'aws'))) shown.push({ where: f, text: readFileSync(f, 'utf8') });
  });

  it('credential-process and update --once with a pin-value URI in their flags show none of it', async () => {
    const flags = (certificate: string) => [
      '--certificate', certificate,
      '--pkcs11-lib', SOFTHSM_MODULE,
      '--trust-anchor-arn', TRUST_ANCHOR_ARN, '--profile-arn', PROFILE_ARN, '--role-arn', roleArn('app'),
      '--endpoint', w.emulator.httpsUrl!, '--ca-bundle', w.caBundle,
    ];
    const env = { HOME: w.dir, SOFTHSM2_CONF: hsm.conf };
    for (const [name, certificate] of [['good', good], ['missing', missing]] as const) {
      const cp = captureIO(env);
      const code = await credentialProcessCommand(flags(certificate), cp);
      if (name === 'good') expect(code, `credential-process: ${cp.err()}`).to.equal(0);
      else expect(cp.err(), 'credential-process names the missing object').to.contain('no-such-object');
      record(`credential-process (${name})`, cp);
      // The credentials file's directory must exist (the agent creates no directory above it).
      mkdirSync(join(out, `update-${name}`), { recursive: true, mode: 0o700 });
      const file = join(out, `update-${name}`, 'credentials');
      const up = captureIO(env);
      await updateCommand([...flags(certificate), '--once', '--profile', 'p', '--credentials-file', file], up);
      record(`update --once (${name})`, up);
    }
    for (const f of filesUnder(out)) shown.push({ where: f, text: readFileSync(f, 'utf8') });
  });

  it('a state file written by an older version with the PIN in it is shown redacted by status', () => {
    const doc = buildStatusDocument({
      credentialsFile: '/x/credentials',
      source: 'state-file',
      live: false,
      now: Date.parse('2030-01-01T00:00:00Z'),
      profiles: [{ name: 'old', status: { name: 'old', state: 'stopped', consecutiveFailures: 0, certificate: { path: good } } as never, marginSeconds: 900 }],
    });
    const text = JSON.stringify(doc) + formatStatusText(doc);
    expect(text.includes(PIN), `status of an old state file: ${text}`).to.equal(false);
    expect(text, 'the URI is still shown, without the PIN').to.contain('pkcs11:token=pin-token;object=leaf');
  });

  it('appears in no output and no file', () => {
    expect(shown.length, 'outputs and files searched').to.be.greaterThan(15);
    expect(shown.filter((s) => s.text.includes(PIN)).map((s) => `${s.where}: …${s.text.slice(Math.max(0, s.text.indexOf(PIN) - 80), s.text.indexOf(PIN) + 20)}…`), 'places showing the PIN').to.deep.equal([]);
  });
});
