import { expect } from 'chai';
import type { ProfileStatus } from '../../src/agent/agent.js';
import { healthMarginSeconds, profileHealth } from '../../src/observability/health.js';
import { buildStatusDocument, formatStatusText } from '../../src/observability/status-document.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

function snapshot(name: string, extra: Partial<ProfileStatus> = {}): ProfileStatus {
  return {
    name,
    state: 'fresh',
    consecutiveFailures: 0,
    refreshes: 1,
    inFlight: false,
    specHash: 'abcdef0123456789',
    accessKeyHash: 'deadbeefdeadbeef',
    expiration: iso(T0 + 3600_000),
    issuedAt: iso(T0),
    lastSuccess: iso(T0),
    nextRefresh: iso(T0 + 2700_000),
    ...extra,
  };
}

describe('observability: the status document', () => {
  it('builds one row per profile from the job snapshots, with days left counted from now and no fingerprints', () => {
    const doc = buildStatusDocument({
      credentialsFile: '/home/u/.aws/credentials',
      source: 'state-file',
      live: false,
      pid: 4242,
      updatedAt: iso(T0),
      now: T0 + 60_000,
      profiles: [
        {
          name: 'web',
          marginSeconds: 900,
          status: snapshot('web', {
            certificate: { path: '/pki/web.pem', serial: '0a', subject: 'CN=web', notAfter: iso(T0 + 10.5 * 86_400_000), daysLeft: 99, chain: [{ subject: 'CN=CA', notAfter: iso(T0 + 400 * 86_400_000) }] },
          }),
        },
        { name: 'gone', marginSeconds: 60, status: undefined },
      ],
    });
    expect(doc).to.deep.equal({
      credentialsFile: '/home/u/.aws/credentials',
      source: 'state-file',
      live: false,
      pid: 4242,
      updatedAt: iso(T0),
      healthy: false,
      profiles: [
        {
          profile: 'web',
          state: 'fresh',
          valid: true,
          healthy: true,
          credentialsExpire: iso(T0 + 3600_000),
          lastSuccess: iso(T0),
          consecutiveFailures: 0,
          certificatePath: '/pki/web.pem',
          certificateSerial: '0a',
          certificateSubject: 'CN=web',
          certificateNotAfter: iso(T0 + 10.5 * 86_400_000),
          certificateDaysLeft: 10,
          chain: [{ position: 1, subject: 'CN=CA', notAfter: iso(T0 + 400 * 86_400_000), daysLeft: 399 }],
        },
        {
          profile: 'gone',
          state: 'unknown',
          valid: false,
          healthy: false,
          problem: 'the agent has no state for this profile (not started yet, or added to the schedule after the agent last saved its state)',
        },
      ],
    });
    expect(JSON.stringify(doc), 'no next refresh from a stopped agent, no fingerprints').to.not.match(/nextRefresh|accessKeyHash|specHash|deadbeef/);
  });

  it('judges health against the refresh margin: 15m for before_expiry, 60 s for cron, with a first attempt in flight let through', () => {
    const now = T0 + 50 * 60_000; // 10 minutes left
    const before = healthMarginSeconds({ kind: 'before_expiry', marginSeconds: 900, jitterSeconds: 90 });
    const cron = healthMarginSeconds({ kind: 'cron', expression: '*/20 * * * *', jitterSeconds: 0 });
    expect([before, cron]).to.deep.equal([900, 60]);
    expect(profileHealth(snapshot('a'), cron, now)).to.deep.equal({ healthy: true });
    expect(profileHealth(snapshot('a', { state: 'refreshing', inFlight: true }), before, now), 'first attempt in flight').to.deep.equal({ healthy: true });
    expect(profileHealth(snapshot('a', { state: 'failing', inFlight: true, lastError: { code: 'NETWORK', message: 'ECONNRESET', at: iso(now) } }), before, now)).to.deep.equal({
      healthy: false,
      problem: `the credentials expire at ${iso(T0 + 3600_000)}, in 10m, within the refresh margin of 15m (state failing; last error NETWORK: ECONNRESET)`,
    });
    expect(profileHealth(snapshot('a', { expiration: undefined, state: 'backing-off', consecutiveFailures: 3, lastError: { code: 'ACCESS_DENIED', message: 'no', at: iso(now) } }), before, now)).to.deep.equal({
      healthy: false,
      problem: 'no credentials yet: the refreshes failed so far (3); last error ACCESS_DENIED: no',
    });
    expect(profileHealth(snapshot('a', { state: 'expired' }), cron, T0 + 3600_000).problem).to.equal(`the credentials expired at ${iso(T0 + 3600_000)} (state expired)`);
  });

  it('renders the text of status: where the state comes from, then one line per profile', () => {
    const doc = buildStatusDocument({
      credentialsFile: '/c',
      source: 'agent',
      live: true,
      pid: 7,
      now: T0 + 60_000,
      profiles: [
        { name: 'web', marginSeconds: 900, status: snapshot('web', { certificate: { path: '/p', notAfter: iso(T0 + 30 * 86_400_000), chain: [{ subject: 'CN=Old CA', notAfter: iso(T0 + 5 * 86_400_000) }] } }) },
        { name: 'db', marginSeconds: 900, status: snapshot('db', { state: 'expired', expiration: iso(T0), lastError: { code: 'ACCESS_DENIED', message: 'denied', at: iso(T0) } }) },
      ],
    });
    expect(formatStatusText(doc).split('\n')).to.deep.equal([
      '/c (agent running, pid 7) — NOT HEALTHY',
      `web\tvalid until ${iso(T0 + 3600_000)}\tstate fresh\tnext refresh ${iso(T0 + 2700_000)}\tcertificate until ${iso(T0 + 30 * 86_400_000)} (29 days)\tCA "CN=Old CA" until ${iso(T0 + 5 * 86_400_000)} (4 days)`,
      `db\tEXPIRED ${iso(T0)}\tstate expired\tnext refresh ${iso(T0 + 2700_000)}\tlast error ACCESS_DENIED: denied`,
      '',
    ]);
    const none = buildStatusDocument({ credentialsFile: '/c', source: 'none', live: false, now: T0, profiles: [{ name: 'web', marginSeconds: 900, status: undefined }] });
    expect(formatStatusText(none).split('\n')[0]).to.equal('/c (no agent state: start the agent (run) or refresh once) — NOT HEALTHY');
  });
});
