/**
 * The hostile-input corpus, generated at test time and run in CI: the shapes of issue 14 (alias
 * bombs, names from Object.prototype, byte order marks and one-sided spaces, control characters,
 * huge lines and messages, absurd expirations, plain-http endpoints) through the three readers of
 * outside input — `validate` on a schedule, the credentials-file reader, and the CreateSession
 * reply parser. Every input must end in a result or an AgentError (never another exception), fast,
 * with a bounded message free of raw control characters and of prototype members.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateCommand } from '../../src/cli/validate.js';
import { findIssues, parseStrict, readProfiles } from '../../src/credentials-file/parse.js';
import { AgentError } from '../../src/errors.js';
import { parseSessionReply } from '../../src/rolesanywhere/reply.js';
import { captureIO } from '../helpers/io.js';
import { makeTempDir } from '../helpers/tmp.js';
import { PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN } from '../helpers/world.js';
import { aliasBomb, HOSTILE_MESSAGE, PROTOTYPE_NAMES } from './shapes.js';

const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;
const LEAK = /native code|\[object Object\]/;
const NOW = Date.parse('2026-06-01T12:00:00Z');

const head = ['defaults:', `  trust_anchor_arn: ${TRUST_ANCHOR_ARN}`, `  profile_arn: ${PROFILE_ARN}`, '  certificate: /nonexistent/c.pem', '  private_key: /nonexistent/c.key'];
const profile = (extra = '') => ['profiles:', `  app: { role_arn: "${roleArn('app')}"${extra} }`];

/** Schedules: name → text. */
function schedules(): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['alias bomb (9 x 9)', aliasBomb()],
    ['alias bomb under a valid schedule', aliasBomb([...head, ...profile(), ''].join('\n'))],
    ['alias to its own parent', 'x-a: &a [1, *a]\nprofiles: *a\n'],
    ['nesting 40 deep', `x-deep: ${'['.repeat(40)}${']'.repeat(40)}\n${[...head, ...profile()].join('\n')}\n`],
    ['a schedule that starts with a BOM', `\uFEFF${[...head, ...profile()].join('\n')}\n`],
    ['escape sequences in a value', [...head, ...profile(', role_session_name: "a\\u001b[2Jb\\nforged"')].join('\n') + '\n'],
    ['a 200 KB value', [...head, ...profile(`, role_session_name: "${'x'.repeat(200_000)}"`)].join('\n') + '\n'],
    ['plain http endpoint to another host', [...head, '  endpoint: http://rolesanywhere.example.com', ...profile()].join('\n') + '\n'],
    ['endpoint with a password', [...head, '  endpoint: https://user:hunter2secret@example.com', ...profile()].join('\n') + '\n'],
    ['a pin-value URI', [...head.slice(0, 3), '  certificate: "pkcs11:token=t;object=o?pin-value=31415926"', ...profile()].join('\n') + '\n'],
  ];
  for (const name of PROTOTYPE_NAMES) {
    out.push([`key "${name}" everywhere`, [`${name}: 1`, ...head, `  ${name}: 1`, ...profile(`, ${name}: 1`), ''].join('\n')]);
    out.push([`\${${name}} and *_env: ${name}`, [...head, `  intermediates: /x/\${${name}}`, `  private_key_password_env: ${name}`, ...profile(), ''].join('\n')]);
  }
  return out;
}

/** Credentials files: name → text, and the key that must NOT be read as aws_access_key_id. */
function credentialFiles(): Array<[string, string]> {
  const body = (line: string) => `[dev]\nregion = eu-west-1\n${line}\naws_secret_access_key = s\n`;
  const out: Array<[string, string]> = [
    ['a leading BOM', '\uFEFF' + body('aws_access_key_id = AKIAFILE')],
    ['U+FEFF before a key', body('\uFEFFaws_access_key_id = AKIAFILE')],
    ['U+FEFF after a value', body('aws_access_key_id = AKIAFILE\uFEFF')],
    ['U+0085 before a key', body('\u0085aws_access_key_id = AKIAFILE')],
    ['an escape sequence', body('aws_access_key_id = AKIA\u001b[2JFILE')],
    ['a NUL', body('aws_access_key_id = AKIA\u0000FILE')],
    ['a lone carriage return', body('aws_access_key_id = AKIA\rFILE')],
    ['a 70 KiB line', body(`aws_access_key_id = ${'A'.repeat(70 * 1024)}`)],
    ['a header with U+FEFF', '[\uFEFFdev]\naws_access_key_id = AKIAFILE\n'],
  ];
  for (const name of PROTOTYPE_NAMES) out.push([`section and key "${name}"`, `[${name}]\n${name} = 1\n[dev]\naws_access_key_id = AKIAFILE\n`]);
  return out;
}

/** CreateSession replies: name → reply. */
function replies(): Array<[string, { status: number; headers: Record<string, string>; body: string }]> {
  const ok = (credentials: unknown) => ({ status: 201, headers: {}, body: JSON.stringify({ credentialSet: [{ credentials }] }) });
  const creds = (expiration: unknown) => ({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 's'.repeat(40), sessionToken: 't'.repeat(64), expiration });
  const out: Array<[string, { status: number; headers: Record<string, string>; body: string }]> = [
    ['a 500 KB error message with escape sequences', { status: 403, headers: { 'x-amzn-errortype': 'AccessDeniedException' }, body: JSON.stringify({ message: HOSTILE_MESSAGE }) }],
    ['a 500 KB non-JSON body', { status: 502, headers: {}, body: `\u001b[2J${'<p>'.repeat(200_000)}` }],
    ['an error type with control characters', { status: 400, headers: { 'x-amzn-errortype': `Validation\u001b[31m${'E'.repeat(10_000)}` }, body: '{}' }],
    ['a message that is an object', { status: 403, headers: {}, body: '{"message":{"__proto__":{"x":1}}}' }],
    ['credentialSet as an object', { status: 201, headers: {}, body: '{"credentialSet":{"0":{}}}' }],
    ['a __proto__ credentialSet entry', { status: 201, headers: {}, body: '{"credentialSet":[{"__proto__":{"credentials":{}}}]}' }],
    ['a JSON array', { status: 201, headers: {}, body: '[1,2,3]' }],
    ['nested 10,000 deep', { status: 201, headers: {}, body: '['.repeat(10_000) + ']'.repeat(10_000) }],
  ];
  for (const e of ['9999-12-31T23:59:59Z', '2999', 2999, '+275760-09-13T00:00:00Z', '2026-06-01', '1e12', 'NaN', '', '2026-06-01T13:00:00Z\u001b[2J', 'x'.repeat(100_000)]) {
    out.push([`expiration ${JSON.stringify(e).slice(0, 40)}`, ok(creds(e))]);
  }
  out.push(['accessKeyId with control characters', ok({ ...creds('2026-06-01T13:00:00Z'), accessKeyId: 'ASIA\u001b[2J' })]);
  return out;
}

function expectTame(where: string, text: string, max: number): void {
  expect(RAW_CONTROL.test(text.replace(/\n/g, '')), `${where}: raw control characters in ${JSON.stringify(text.slice(0, 200))}`).to.equal(false);
  expect(LEAK.test(text), `${where}: a prototype member in ${JSON.stringify(text.slice(0, 200))}`).to.equal(false);
  expect(text.length, `${where}: length`).to.be.below(max);
}

describe('the hostile-input corpus', function () {
  this.timeout(20_000);
  let tmp: ReturnType<typeof makeTempDir>;
  before(() => {
    tmp = makeTempDir('ra-corpus-');
  });
  after(() => tmp.cleanup());

  it('validate ends every hostile schedule with exit 2 and bounded, escaped, prototype-free lines', async () => {
    const started = Date.now();
    for (const [i, [name, text]] of schedules().entries()) {
      const file = join(tmp.dir, `s${i}.yaml`);
      writeFileSync(file, text);
      const io = captureIO({ HOME: tmp.dir });
      const code = await validateCommand(['--config', file], io);
      expect(code, `${name}: exit code; stderr: ${io.err().slice(0, 300)}`).to.equal(2);
      // A 200 KB value is quoted by its issue; every other line is short.
      for (const line of (io.out() + io.err()).split('\n')) expectTame(name, line, 2_000);
      expect(io.out() + io.err(), `${name}: the PIN`).not.to.contain('31415926');
      expect(io.out() + io.err(), `${name}: the password`).not.to.contain('hunter2secret');
    }
    expect(Date.now() - started, 'ms for every schedule (generous)').to.be.below(15_000);
  });

  it('the credentials-file reader refuses or reads every hostile file as botocore would, never reading a disguised key', () => {
    for (const [name, text] of credentialFiles()) {
      const issues = findIssues(text);
      for (const i of issues) expectTame(name, i.message, 1_000);
      let strict: unknown;
      try {
        strict = parseStrict(text);
      } catch (e) {
        expect(e, `${name}: ${String(e)}`).to.be.instanceOf(AgentError);
      }
      const prototypeShaped = name.startsWith('section and key');
      expect(issues.length > 0 || prototypeShaped, `${name}: refused (issues: ${issues.map((i) => i.message).join('; ')})`).to.equal(true);
      if (strict) expect(prototypeShaped, `${name}: accepted`).to.equal(true);
      // The forgiving reader must not hand out a key that botocore would not see.
      const id = readProfiles(text).get('dev')?.get('aws_access_key_id');
      if (!prototypeShaped && id !== undefined) expect(id, `${name}: key read by the forgiving reader`).to.match(/^AKIA[\w\u001b[\u0000\r\u2028]*FILE$|^A+$/);
      if (name.includes('U+FEFF') || name.includes('U+0085')) expect(id, `${name}: a disguised key read as aws_access_key_id`).to.equal(undefined);
    }
  });

  it('the reply parser turns every hostile reply into an AgentError with a bounded, escaped message', () => {
    for (const [name, reply] of replies()) {
      let error: unknown;
      try {
        parseSessionReply(reply, NOW, 'profile "p"', 3600);
      } catch (e) {
        error = e;
      }
      expect(error, `${name}: accepted`).to.be.instanceOf(AgentError);
      expectTame(name, (error as AgentError).message, 2_000);
    }
  });
});
