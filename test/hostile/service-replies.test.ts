/**
 * A hostile or broken CreateSession service: an error message of 500 KB, escape sequences and raw
 * newlines in it (which could clear a terminal or forge log lines), and expirations far in the
 * future (year 9999, or just "2999") that would leave a profile never refreshed. The reply parser
 * bounds and escapes what it quotes and refuses such expirations; `once`, `credential-process` and
 * `update` print nothing raw, and the state file stays small.
 */
import { expect } from 'chai';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { credentialProcessCommand } from '../../src/cli/credential-process.js';
import { onceCommand } from '../../src/cli/once.js';
import { updateCommand } from '../../src/cli/update.js';
import { statePathFor } from '../../src/agent/state-file.js';
import { AgentError } from '../../src/errors.js';
import { MAX_SERVICE_MESSAGE, parseSessionReply, replyToError } from '../../src/rolesanywhere/reply.js';
import { captureIO } from '../helpers/io.js';
import { HOSTILE_MESSAGE } from './shapes.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const HOUR = 3600;
/** Anything a terminal or a line-based log reader would act on. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;


function success(expiration: string) {
  return {
    status: 201,
    headers: {},
    body: JSON.stringify({ credentialSet: [{ credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 's'.repeat(40), sessionToken: 't'.repeat(100), expiration } }] }),
  };
}

function thrown(f: () => unknown): AgentError {
  try {
    f();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(AgentError);
    return e as AgentError;
  }
  throw new Error('expected an AgentError, nothing was thrown');
}

describe('hostile CreateSession replies', () => {
  describe('the reply parser', () => {
    it(`cuts an error message to ${MAX_SERVICE_MESSAGE} characters and says it was cut`, () => {
      const e = replyToError({ status: 403, headers: { 'x-amzn-errortype': 'AccessDeniedException' }, body: JSON.stringify({ message: HOSTILE_MESSAGE }) }, NOW, 'profile "p"');
      expect(e.message.length, 'message length').to.be.below(MAX_SERVICE_MESSAGE + 400);
      expect(e.message, 'message').to.contain(`(cut: ${HOSTILE_MESSAGE.length} characters in all)`);
      expect(e.code, 'code').to.equal('ACCESS_DENIED');
    });

    it('escapes escape sequences, carriage returns and newlines in the message, the error type and the request id', () => {
      const e = replyToError(
        { status: 403, headers: { 'x-amzn-errortype': 'Access\u001b[2JDenied', 'x-amzn-requestid': 'id\nforged' }, body: JSON.stringify({ message: 'no\u001b[2J\nway\r' }) },
        NOW,
        'profile "p"',
      );
      expect(RAW_CONTROL.test(e.message) || e.message.includes('\n'), `raw control characters in ${JSON.stringify(e.message)}`).to.equal(false);
      expect(e.message, 'message').to.contain('no\\u001b[2J\\u000away\\u000d');
      expect(e.requestId, 'request id').to.equal('id\\u000aforged');
    });

    it('escapes a body that is not JSON as well', () => {
      const e = replyToError({ status: 502, headers: {}, body: '<html>\u001b[31mbad gateway\n</html>' }, NOW, 'p');
      expect(e.message, 'message').to.contain('<html>\\u001b[31mbad gateway\\u000a</html>');
    });

    for (const expiration of ['9999-12-31T23:59:59Z', '2999', '2026-06-01T13:00:00', '2026-06-01', 'Mon, 01 Jun 2026 13:00:00 GMT', '2026-06-02T12:00:00Z']) {
      it(`refuses the expiration ${JSON.stringify(expiration)} for a 1 h session`, () => {
        const e = thrown(() => parseSessionReply(success(expiration), NOW, 'profile "p"', HOUR));
        expect(e.code, e.message).to.equal('BAD_RESPONSE');
        expect(e.message, 'message').to.match(/is not a full ISO 8601 timestamp|is later than the 3600 s asked for allow/);
      });
    }

    for (const expiration of ['2026-06-01T13:00:00Z', '2026-06-01T13:04:00.123Z', '2026-06-01T15:04:00+02:00']) {
      it(`accepts the expiration ${expiration} for a 1 h session (within 5 minutes of skew)`, () => {
        const r = parseSessionReply(success(expiration), NOW, 'profile "p"', HOUR);
        expect(r.credentials.expiration.getTime(), 'expiration').to.equal(Date.parse(expiration));
      });
    }
  });

  describe('through once, credential-process and update (emulator)', function () {
    this.timeout(30_000);
    let w: World;
    before(async () => {
      w = await makeWorld();
    });
    after(async () => w?.cleanup());

    const flags = () => [
      '--certificate', w.ecFiles.certificate, '--private-key', w.ecFiles.privateKey,
      '--trust-anchor-arn', TRUST_ANCHOR_ARN, '--profile-arn', PROFILE_ARN, '--role-arn', roleArn('app'),
      '--endpoint', w.emulator.httpsUrl!, '--ca-bundle', w.caBundle,
    ];

    /** Every output line is bounded and holds no raw control character; no forged log line. */
    function expectTame(where: string, text: string): void {
      expect(RAW_CONTROL.test(text.replace(/\r?\n/g, '')), `${where}: raw control characters`).to.equal(false);
      expect(text, `${where}: a forged line`).not.to.match(/^\{"level":"info","message":"forged"\}/m);
      const longest = Math.max(...text.split('\n').map((l) => l.length));
      expect(longest, `${where}: longest line`).to.be.below(4_000);
    }

    it('once (text and --json) and its state file', async () => {
      // The credentials file's directory must exist (the agent creates no directory above it).
      mkdirSync(join(w.dir, 'once'), { mode: 0o700 });
      const credentials = join(w.dir, 'once', 'credentials');
      const schedule = join(w.dir, 'once.yaml');
      writeFileSync(
        schedule,
        [
          `credentials_file: ${credentials}`,
          'defaults:',
          `  trust_anchor_arn: ${TRUST_ANCHOR_ARN}`,
          `  profile_arn: ${PROFILE_ARN}`,
          `  endpoint: ${w.emulator.httpsUrl}`,
          `  ca_bundle: ${w.caBundle}`,
          `  certificate: ${w.ecFiles.certificate}`,
          `  private_key: ${w.ecFiles.privateKey}`,
          'profiles:',
          `  app: { role_arn: "${roleArn('app')}" }`,
          '',
        ].join('\n'),
      );
      for (const json of [false, true]) {
        w.emulator.faults.failNext(1, 403, 'AccessDeniedException', HOSTILE_MESSAGE);
        const io = captureIO({ HOME: w.dir });
        const code = await onceCommand(['--config', schedule, ...(json ? ['--json'] : [])], io);
        expect(code, io.err().slice(0, 300)).to.equal(6);
        expectTame(`once${json ? ' --json' : ''} stdout`, io.out());
        expectTame(`once${json ? ' --json' : ''} stderr`, io.err());
        expect(io.out() + io.err(), 'says the message was cut').to.contain('(cut: ');
      }
      const state = statePathFor(credentials, 'once');
      expect(statSync(state).size, 'state file bytes').to.be.below(20_000);
      expectTame('state file', readFileSync(state, 'utf8'));
    });

    it('credential-process', async () => {
      w.emulator.faults.failNext(1, 403, 'AccessDeniedException', HOSTILE_MESSAGE);
      const io = captureIO({ HOME: w.dir });
      const code = await credentialProcessCommand(flags(), io);
      expect(code, io.err().slice(0, 300)).to.equal(3);
      expectTame('credential-process stderr', io.err());
      expect(io.out(), 'stdout').to.equal('');
    });

    it('update --once', async () => {
      w.emulator.faults.failNext(1, 403, 'AccessDeniedException', HOSTILE_MESSAGE);
      const io = captureIO({ HOME: w.dir });
      const code = await updateCommand([...flags(), '--once', '--profile', 'p', '--credentials-file', join(w.dir, 'update', 'credentials')], io);
      expect(code, io.err().slice(0, 300)).to.equal(3);
      expectTame('update stderr', io.err());
    });
  });
});
