import { expect } from 'chai';
import { interpolate } from '../../src/config/interpolate.js';
import { parse, PR, ROLE, TA, yaml } from './fixtures.js';

describe('interpolate', () => {
  const env = { HOST: 'web-1', EMPTY: '', DIR: '/srv' };
  const rows: [string, string][] = [
    ['${HOST}', 'web-1'],
    ['agent-${HOST}-x', 'agent-web-1-x'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${HOST:-fallback}', 'web-1'],
    ['${MISSING:-}', ''],
    ['$${HOST}', '${HOST}'],
    ['cost $5 and $HOST', 'cost $5 and $HOST'],
    ['${DIR}/${HOST}.pem', '/srv/web-1.pem'],
    ['${MISSING:-a:-b}', 'a:-b'],
  ];
  for (const [input, expected] of rows) {
    it(`turns ${JSON.stringify(input)} into ${JSON.stringify(expected)}`, () => {
      const r = interpolate(input, env);
      expect([r.value, r.missing, r.errors]).to.deep.equal([expected, [], []]);
    });
  }

  it('lists every unset variable that has no default', () => {
    expect(interpolate('${A}/${HOST}/${B}', env).missing).to.deep.equal(['A', 'B']);
  });

  it('reports a malformed reference and an unterminated one', () => {
    expect(interpolate('${1X}', env).errors).to.have.length(1);
    expect(interpolate('x${HOST', env).errors).to.deep.equal(['"${HOST" has no closing }']);
  });

  it('marks a value as replaced only when a reference was substituted', () => {
    expect([interpolate('${HOST}', env).replaced, interpolate('$${HOST}', env).replaced, interpolate('plain', env).replaced]).to.deep.equal([true, false, false]);
  });
});

describe('parseSchedule with ${ENV}', () => {
  const text = yaml`
    defaults:
      certificate: \${PKI:-/etc/pki}/host.pem
      private_key: \${PKI:-/etc/pki}/host.key
      trust_anchor_arn: ${TA}
      profile_arn: ${PR}
      fips: \${FIPS:-false}
      session_duration: \${DURATION:-3600}
    profiles:
      app:
        role_arn: ${ROLE}
        role_session_name: agent-\${HOSTNAME}
    rate_limit:
      per_second: \${RATE:-8}
  `;

  it('replaces variables in string values, and a replaced "true" or "900" serves a boolean or a number', () => {
    const s = parse(text, { env: { HOSTNAME: 'web-1', PKI: '/opt/pki', FIPS: 'true', DURATION: '900', RATE: '2' } });
    const p = s.profiles[0]!;
    expect([p.certificate, p.privateKey, p.roleSessionName, p.fips, p.sessionDurationSeconds, s.rateLimit.perSecond]).to.deep.equal([
      '/opt/pki/host.pem',
      '/opt/pki/host.key',
      'agent-web-1',
      true,
      900,
      2,
    ]);
  });

  it('uses the defaults when the variables are unset', () => {
    const p = parse(text, { env: { HOSTNAME: 'web-1' } }).profiles[0]!;
    expect([p.certificate, p.fips, p.sessionDurationSeconds]).to.deep.equal(['/etc/pki/host.pem', false, 3600]);
  });

  it('does not let a literal "true" written in quotes stand for a boolean', () => {
    const bad = yaml`
      profiles:
        app: { fips: "true" }
    `;
    expect(() => parse(bad)).to.throw(/profiles\.app\.fips \(line 2:16\): expected true or false, got "true"/);
  });
});
