/** The `watch_interval` schedule key: default, per-profile over defaults, 0 for off, range. */
import { expect } from 'chai';
import { agentConfig } from '../../src/agent/from-schedule.js';
import { DEFAULT_WATCH_INTERVAL_SECONDS } from '../../src/config/schedule.js';
import { issuesOf, parse, ROLE, TA, PR, yaml } from '../config/fixtures.js';

const base = (defaults = '', profile = '') => yaml`
  defaults:
    certificate: /etc/pki/host.pem
    private_key: /etc/pki/host.key
    trust_anchor_arn: ${TA}
    profile_arn: ${PR}
${defaults}
  profiles:
    a: { role_arn: "${ROLE}" }
    b: { role_arn: "${ROLE}"${profile} }
`;

describe('watch: the watch_interval schedule key', () => {
  it('defaults to 60s for every profile', () => {
    const s = parse(base());
    expect(s.profiles.map((p) => p.watchIntervalSeconds), 'watch_interval of a and b').to.deep.equal([60, 60]);
    expect(DEFAULT_WATCH_INTERVAL_SECONDS).to.equal(60);
  });

  it('is read from defaults: and overridden per profile, 0 turning the check off', () => {
    const s = parse(base('    watch_interval: 5m', ', watch_interval: 0'));
    expect(s.profiles.map((p) => p.watchIntervalSeconds), 'a inherits 5m, b sets 0').to.deep.equal([300, 0]);
    expect(agentConfig(s).profiles.map((p) => p.watchIntervalMs), 'milliseconds for the agent').to.deep.equal([300_000, 0]);
  });

  it('does not change the profile hash, so changing it alone keeps the credentials', () => {
    const before = agentConfig(parse(base())).profiles[0]!.specHash;
    const after = agentConfig(parse(base('    watch_interval: 10s'))).profiles[0]!.specHash;
    expect(after, 'specHash with watch_interval 10s against the default').to.equal(before);
  });

  it('refuses what is not a duration and what exceeds a day, naming the key', () => {
    const issues = issuesOf(base('', ', watch_interval: often'));
    expect(issues.length, `issues: ${issues.join('\n')}`).to.equal(1);
    expect(issues[0]).to.match(/^profiles\.b\.watch_interval .*"often" is not a duration/);
    const long = issuesOf(base('    watch_interval: 25h'));
    expect(long.length, `issues: ${long.join('\n')}`).to.equal(1);
    expect(long[0]).to.match(/^defaults\.watch_interval .*outside the 0s\.\.24h range for watch_interval — use 0 to turn the check off/);
  });
});
