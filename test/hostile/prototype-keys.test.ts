/**
 * Names from input that an ordinary object would answer from its prototype — constructor,
 * toString, __proto__, hasOwnProperty, valueOf — must be unknown wherever input is looked up: schedule
 * keys (the hint printed `function Object() { [native code] }`), ${VAR} references and *_env
 * settings (process.env has a prototype too), pkcs11: URI attributes, ARN partitions, the flags
 * `import` translates, and the command name.
 */
import { expect } from 'chai';
import { importSchedule } from '../../src/cli/import.js';
import { checkScheduleInputs, ConfigError, parseSchedule } from '../../src/config/index.js';
import { parsePkcs11Uri } from '../../src/keys/pkcs11/uri.js';
import { resolveEndpoint } from '../../src/rolesanywhere/endpoint.js';
import { ensureBuilt, runCli } from '../cli/built-cli.js';
import { PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN } from '../helpers/world.js';
import { PROTOTYPE_NAMES } from './shapes.js';

/** What leaks when a prototype member is printed. */
const LEAK = /native code|\[object Object\]|function\s*\w*\(/;

function issuesOf(text: string, env: Record<string, string | undefined> = {}): string[] {
  try {
    parseSchedule(text, 's.yaml', { env, home: '/home/agent' });
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.issues.map((i) => `${i.path}: ${i.message}${i.hint ? ` — ${i.hint}` : ''}`);
  }
}

const base = (extra: string[] = [], profileExtra = '') =>
  [
    'defaults:',
    `  trust_anchor_arn: ${TRUST_ANCHOR_ARN}`,
    `  profile_arn: ${PROFILE_ARN}`,
    '  certificate: /pki/c.pem',
    '  private_key: /pki/c.key',
    ...extra,
    'profiles:',
    `  app: { role_arn: "${roleArn('app')}"${profileExtra} }`,
    '',
  ].join('\n');

describe('names that live on Object.prototype, from input', () => {
  for (const name of PROTOTYPE_NAMES) {
    it(`schedule key "${name}" at every level is unknown, with a hint listing the valid keys`, () => {
      const text = [
        `${name}: 1`,
        'defaults:',
        `  ${name}: 1`,
        `  trust_anchor_arn: ${TRUST_ANCHOR_ARN}`,
        `  profile_arn: ${PROFILE_ARN}`,
        '  certificate: /pki/c.pem',
        '  private_key: /pki/c.key',
        `  refresh: { before_expiry: 15m, ${name}: 1 }`,
        `rate_limit: { ${name}: 1 }`,
        `http: { listen: "127.0.0.1:0", ${name}: 1 }`,
        'profiles:',
        `  app: { role_arn: "${roleArn('app')}", ${name}: 1 }`,
        '',
      ].join('\n');
      const issues = issuesOf(text);
      expect(issues.filter((i) => LEAK.test(i)), 'issues quoting a prototype member').to.deep.equal([]);
      expect(issues.filter((i) => i.includes(`unknown key "${name}" — valid keys`)).length, `issues: ${issues.join('\n')}`).to.equal(6);
    });

    it(`\${${name}} is an unset variable, and *_env: ${name} names an unset one`, async () => {
      const issues = issuesOf(base([`  intermediates: /pki/\${${name}}`]));
      expect(issues, 'interpolation').to.deep.equal([`defaults.intermediates: \${${name}} is not set in the environment — set ${name} for the agent, or give a default: \${${name}:-value}`]);
      const s = parseSchedule(base([`  private_key_password_env: ${name}`]), 's.yaml', { env: {}, home: '/home/agent' });
      const inputs = await checkScheduleInputs(s, { env: process.env, readableFile: async () => {} });
      expect(inputs.map((i) => i.message), 'input check against the real process.env').to.deep.equal([`the key password variable ${name} is not set`]);
    });

    it(`pkcs11: URI attribute "${name}" (path and query) is unknown`, () => {
      for (const uri of [`pkcs11:${name}=x;token=t`, `pkcs11:token=t?${name}=x`]) {
        let message = '';
        try {
          parsePkcs11Uri(uri);
        } catch (e) {
          message = (e as Error).message;
        }
        expect(message, uri).to.match(/unknown (query )?attribute/);
      }
    });

    it(`partition "${name}" is not known`, () => {
      expect(() => resolveEndpoint({ region: 'eu-west-1', partition: name })).to.throw(`partition "${name}" is not known`);
    });

    it(`import: a --${name} flag leaves the profile untranslated, saying so`, () => {
      const r = importSchedule(
        `[profile a]\ncredential_process = aws_signing_helper credential-process --${name} x --certificate /c --private-key /k --trust-anchor-arn ${TRUST_ANCHOR_ARN} --profile-arn ${PROFILE_ARN} --role-arn ${roleArn('a')}\n`,
        'config',
        { env: {}, home: '/h' },
      );
      // A name with underscores is not flag-shaped at all: an unexpected argument.
      const expected = name.includes('_') ? 'its command line has an unexpected argument (argument 1 after credential-process)' : `its command line has --${name}, which this agent does not know`;
      expect(r.skipped.map((s) => s.reason), 'reasons').to.deep.equal([expected]);
    });
  }

  it('the command "constructor" is unknown to the built CLI: exit 2, no stack trace', async function () {
    this.timeout(120_000);
    ensureBuilt();
    for (const name of ['constructor', '__proto__', 'toString']) {
      const r = await runCli([name]);
      expect([r.code, r.stderr.split('\n')[0]], name).to.deep.equal([2, `rolesanywhere-agent: unknown command "${name}" — run 'rolesanywhere-agent --help' for the list`]);
    }
  });
});
