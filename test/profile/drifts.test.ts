/**
 * Drifts between the schedule path and the command-line path that the one builder closed, each with a
 * test that failed before: AWS_CA_BUNDLE ignored by once/run, with_proxy never read, update's own
 * AgentProfile and specHash, and settings of one key source accepted beside another.
 */
import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { agentConfig } from '../../src/agent/from-schedule.js';
import { onceCommand } from '../../src/cli/once.js';
import { flagsAgentProfile, SESSION_FLAGS, sessionSettings } from '../../src/cli/session-flags.js';
import { ConfigError, parseSchedule } from '../../src/config/index.js';
import { AgentError } from '../../src/errors.js';
import { makeTransport } from '../../src/rolesanywhere/transport.js';
import { scheduleDoc, writeSchedule } from '../agent/fixtures/schedule.js';
import { captureIO } from '../helpers/io.js';
import { makeTempDir } from '../helpers/tmp.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';

const TA = 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/6f1c3a52-8a7e-4c1d-9a6e-2d4b8f0e1a11';
const PA = 'arn:aws:rolesanywhere:eu-west-1:111122223333:profile/0b9d2e47-3c5f-4e8a-b1d2-7f6a5c4e3d22';
const ROLE = 'arn:aws:iam::111122223333:role/app';

function flags(argv: string[]) {
  return parseArgs({ args: argv, options: SESSION_FLAGS, strict: true }).values;
}

function scheduleIssues(profile: Record<string, unknown>): string[] {
  const text = JSON.stringify({ profiles: { p: { trust_anchor_arn: TA, profile_arn: PA, role_arn: ROLE, ...profile } } });
  try {
    parseSchedule(text, 'test.yaml', { env: {}, home: '/home/u' });
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message} — ${i.hint ?? ''}`);
    throw e;
  }
  return [];
}

function flagError(argv: string[]): string {
  try {
    sessionSettings(flags([...argv, '--trust-anchor-arn', TA, '--profile-arn', PA, '--role-arn', ROLE]), {});
  } catch (e) {
    if (e instanceof AgentError) return `${e.code}: ${e.message} — ${e.hint ?? ''}`;
    throw e;
  }
  return 'accepted';
}

describe('the one builder: drifts between the schedule and the command line', function () {
  this.timeout(60_000);

  describe('update and once build the same profile', () => {
    it('the same settings as flags (update) and as a schedule (once) give the same AgentProfile and specHash', () => {
      const argv = ['--certificate', '/pki/c.pem', '--private-key', '/pki/k.pem', '--intermediates', '/pki/i.pem', '--trust-anchor-arn', TA, '--profile-arn', PA, '--role-arn', ROLE];
      argv.push('--session-duration', '7200', '--role-session-name', 'me', '--endpoint', 'https://vpce.example.com', '--ca-bundle', '/pki/ca.pem', '--connect-timeout', '5');
      const fromFlags = flagsAgentProfile('web', flags(argv), {}).profile;
      const schedule = parseSchedule(
        JSON.stringify({
          profiles: {
            web: {
              certificate: '/pki/c.pem',
              private_key: '/pki/k.pem',
              intermediates: '/pki/i.pem',
              trust_anchor_arn: TA,
              profile_arn: PA,
              role_arn: ROLE,
              session_duration: '2h',
              role_session_name: 'me',
              endpoint: 'https://vpce.example.com',
              ca_bundle: '/pki/ca.pem',
              connect_timeout: '5s',
            },
          },
        }),
        's.yaml',
        { env: {}, home: '/home/u' },
      );
      const fromSchedule = agentConfig(schedule).profiles[0]!;
      expect(fromFlags, 'update --profile web … and a schedule profile "web" with the same settings').to.deep.equal(fromSchedule);
      expect(fromFlags.specHash, 'specHash').to.equal(fromSchedule.specHash);
    });
  });

  describe("settings of one key source beside another are refused, naming the setting and the source", () => {
    it('a key password beside an ssh-agent: key, in a schedule', () => {
      expect(scheduleIssues({ certificate: '/pki/c.pem', private_key: 'ssh-agent:', private_key_password_env: 'PW' })).to.deep.equal([
        'profiles.p.private_key_password_env: private_key_password_env applies to encrypted PEM or PKCS#12 keys, not to a key held by an ssh-agent — remove it: the agent holds the key unlocked (ssh-add asks for the passphrase when the key is added)',
      ]);
    });
    it('a key password beside an ssh-agent: key, on the command line (file and inline)', () => {
      expect(flagError(['--certificate', '/pki/c.pem', '--private-key', 'ssh-agent:', '--private-key-password-file', '/pki/pw'])).to.equal(
        'ARGUMENT_INVALID: --private-key-password-file applies to encrypted PEM or PKCS#12 keys, not to a key held by an ssh-agent — remove it: the agent holds the key unlocked (ssh-add asks for the passphrase when the key is added)',
      );
      expect(flagError(['--certificate', '/pki/c.pem', '--private-key', 'ssh-agent:/run/agent.sock', '--pkcs8-password', 'hunter2'])).to.equal(
        'ARGUMENT_INVALID: --pkcs8-password applies to encrypted PEM or PKCS#12 keys, not to a key held by an ssh-agent — remove it: the agent holds the key unlocked (ssh-add asks for the passphrase when the key is added)',
      );
    });
    it('a token PIN beside a key file, in a schedule and on the command line', () => {
      expect(scheduleIssues({ certificate: '/pki/c.pem', private_key: '/pki/k.pem', pkcs11_pin_file: '/pki/pin' })).to.deep.equal([
        'profiles.p.pkcs11_pin_file: pkcs11_pin_file applies only to pkcs11: URIs, and neither certificate nor private_key is one — remove pkcs11_pin_file, or write pkcs11_pin_file: null in a profile that uses key files',
      ]);
      expect(flagError(['--certificate', '/pki/c.pem', '--private-key', '/pki/k.pem', '--pkcs11-pin-file', '/pki/pin'])).to.equal(
        'ARGUMENT_INVALID: --pkcs11-pin-file applies only to pkcs11: URIs, and neither certificate nor private_key is one — remove pkcs11_pin_file, or write pkcs11_pin_file: null in a profile that uses key files',
      );
    });
    it('a key password stays allowed for a key file beside a certificate on a token', () => {
      expect(flagError(['--certificate', 'pkcs11:token=t;object=c', '--private-key', '/pki/k.pem', '--private-key-password-file', '/pki/pw'])).to.equal('accepted');
    });
  });

  describe('with_proxy', () => {
    const env = { HTTPS_PROXY: 'http://127.0.0.1:9' };
    const transportOf = (extra: Record<string, unknown>) =>
      agentConfig(parseSchedule(JSON.stringify({ profiles: { p: { certificate: '/c.pem', private_key: '/k.pem', trust_anchor_arn: TA, profile_arn: PA, role_arn: ROLE, ...extra } } }), 's.yaml', { env, home: '/h' })).profiles[0]!.transport;
    it('unset or true: the proxy of the environment is used; false: none', async () => {
      for (const [extra, proxied] of [[{}, true], [{ with_proxy: true }, true], [{ with_proxy: false }, false]] as const) {
        const t = makeTransport(transportOf(extra), env);
        expect(t.proxy !== undefined, `a proxy with ${JSON.stringify(extra)}`).to.equal(proxied);
        await t.close();
      }
    });
  });

  describe('against the emulator (once)', () => {
    let w: World;
    const cleanups: Array<() => void | Promise<void>> = [];
    before(async () => {
      w = await makeWorld({ roles: [roleArn('app')] });
    });
    after(async () => {
      for (const c of cleanups.reverse()) await c();
      await w.cleanup();
    });

    function setup(defaults: Record<string, unknown>) {
      const t = makeTempDir('ra-catalogue-');
      cleanups.push(t.cleanup);
      const credentials = join(t.dir, 'aws', 'credentials');
      const doc = scheduleDoc(w, credentials, { web: { role: 'app', key: w.ecFiles } });
      const d: Record<string, unknown> = { ...(doc.defaults as Record<string, unknown>), trust_anchor_arn: TRUST_ANCHOR_ARN, profile_arn: PROFILE_ARN, ...defaults };
      for (const [k, v] of Object.entries(d)) if (v === undefined) delete d[k];
      doc.defaults = d;
      return { dir: t.dir, schedule: writeSchedule(join(t.dir, 'schedule.yaml'), doc) };
    }

    it("AWS_CA_BUNDLE alone trusts the emulator's TLS identity, as for credential-process", async () => {
      const s = setup({ ca_bundle: undefined });
      const io = captureIO({ HOME: s.dir, AWS_CA_BUNDLE: w.caBundle });
      const code = await onceCommand(['--config', s.schedule], io);
      expect(code, `exit code; stdout: ${io.out()} stderr: ${io.err()}`).to.equal(0);
      expect(io.out(), 'summary').to.match(/^web\tok\t/);
    });

    it("the schedule's ca_bundle wins over AWS_CA_BUNDLE", async () => {
      const s = setup({});
      const io = captureIO({ HOME: s.dir, AWS_CA_BUNDLE: join(s.dir, 'no-such-ca.pem') });
      const code = await onceCommand(['--config', s.schedule], io);
      expect(code, `exit code; stderr: ${io.err()}`).to.equal(0);
    });

    it('with_proxy: false connects directly when HTTPS_PROXY names a proxy that never answers', async () => {
      const sockets = new Set<Socket>();
      const blackHole: Server = createServer((sock) => sockets.add(sock));
      await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
      cleanups.push(
        () =>
          new Promise<void>((r) => {
            for (const sock of sockets) sock.destroy();
            blackHole.close(() => r());
          }),
      );
      const { port } = blackHole.address() as { port: number };
      const s = setup({ with_proxy: false, connect_timeout: '2s' });
      // NO_PROXY could let loopback through on its own: it is left empty on purpose.
      const io = captureIO({ HOME: s.dir, HTTPS_PROXY: `http://127.0.0.1:${port}`, NO_PROXY: '' });
      const code = await onceCommand(['--config', s.schedule], io);
      expect(code, `exit code; stdout: ${io.out()} stderr: ${io.err()}`).to.equal(0);
      expect(sockets.size, 'connections the black-hole proxy received').to.equal(0);
      expect(io.err(), 'the warning that the proxy is ignored').to.contain('with_proxy: false — connecting directly; HTTPS_PROXY is ignored');
    });
  });
});
