/**
 * A reload that changes a profile's identity (role, profile or trust anchor ARN) stops serving the
 * old identity's credentials: the first failure for the new identity removes them from the file, and
 * status and health say why. A change of the key material is not an identity change (keep-last-good
 * applies), and a profile that leaves the schedule has its keys removed at the reload.
 */
import { expect } from 'chai';
import type { Agent, AgentProfile } from '../../src/agent/agent.js';
import { profileHealth } from '../../src/observability/health.js';
import { agentWorld, logText, profile, reply } from '../helpers/agent-fakes.js';

const T0 = Date.UTC(2026, 10, 22, 0, 0, 0);
const state = (agent: Agent, name: string) => agent.status().find((s) => s.name === name)!;
const denied = () => Array.from({ length: 100 }, () => reply(403, 'AccessDeniedException'));
/** Profile `name` assuming the role `role` (the fake service answers per role). */
const asRole = (name: string, role: string, extra: Partial<AgentProfile> = {}): AgentProfile => {
  const p = profile(name);
  return { ...p, specHash: `hash-${name}-${role}`, session: { ...p.session, roleArn: `arn:aws:iam::111122223333:role/${role}` }, ...extra };
};

describe('the agent when a reload changes the identity of a profile', () => {
  it('removes the old role\'s keys in the same change that records the first failure of the new role, and says why', async () => {
    const t = agentWorld([asRole('app', 'role-a'), profile('other')], { now: T0 });
    await t.agent.start(t.config);
    await t.advance(1000);
    expect(state(t.agent, 'app').state, 'state before the reload').to.equal('fresh');
    t.service.failures.set('role-b', denied());
    const r = await t.agent.reload({ ...t.config, profiles: [asRole('app', 'role-b'), profile('other')] });
    expect(r.changed, 'changed profiles').to.deep.equal(['app']);
    await t.advance(1000);
    expect(t.service.calls.filter((c) => c === 'role-b').length, 'calls for the new role').to.equal(1);
    expect(t.sink.removals, 'profiles whose keys were removed').to.deep.equal(['app']);
    const s = state(t.agent, 'app');
    expect(s.lastError?.code, 'last error').to.equal('ACCESS_DENIED');
    expect(s.expiration, 'credentials the agent still serves').to.equal(undefined);
    expect(s.credentialsRemoved?.reason, 'why the keys went').to.include('role_arn changed');
    expect(s.credentialsRemoved?.at, 'when the keys went: with the first failure').to.equal(s.lastError?.at);
    const health = profileHealth(s, 900, t.clock.now());
    expect(health.healthy, 'healthy').to.equal(false);
    expect(health.problem, 'the health problem').to.include('removed from the file').and.include('role_arn changed').and.include('ACCESS_DENIED');
    expect(logText(t.log).some((l) => l.startsWith('warn removed the credentials of the previous identity')), 'a warning in the log').to.equal(true);
    // Later failures do not write again.
    await t.advance(600_000);
    expect(t.service.calls.filter((c) => c === 'role-b').length, 'retries for the new role').to.be.greaterThan(1);
    expect(t.sink.removals, 'removals after retries').to.deep.equal(['app']);
    await t.agent.stop();
  });

  it('replaces the old role\'s keys with the new role\'s when the new role works, without removing them first', async () => {
    const t = agentWorld([asRole('app', 'role-a')], { now: T0 });
    await t.agent.start(t.config);
    await t.advance(1000);
    await t.agent.reload({ ...t.config, profiles: [asRole('app', 'role-b')] });
    await t.advance(1000);
    expect(t.sink.changes, 'changes to the file').to.deep.equal(['app', 'app']);
    expect(t.sink.last('app')!.accessKeyId, 'the key written last').to.match(/^ASIAROLE-B/);
    expect(state(t.agent, 'app').credentialsRemoved, 'removal note').to.equal(undefined);
    await t.agent.stop();
  });

  for (const [what, change] of [
    ['profile_arn', { profileArn: 'arn:aws:rolesanywhere:eu-west-1:111122223333:profile/00000000-0a1b-4c2d-9e3f-4a5b6c7d8e9f' }],
    ['trust_anchor_arn', { trustAnchorArn: 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/00000000-4d5e-4f60-8a9b-0c1d2e3f4a5b' }],
  ] as const) {
    it(`treats a changed ${what} as a new identity too`, async () => {
      const t = agentWorld([asRole('app', 'role-a')], { now: T0 });
      await t.agent.start(t.config);
      await t.advance(1000);
      t.service.failures.set('role-a', denied());
      const p = asRole('app', 'role-a');
      await t.agent.reload({ ...t.config, profiles: [{ ...p, specHash: 'changed', session: { ...p.session, ...change } }] });
      await t.advance(1000);
      expect(t.sink.removals, 'profiles whose keys were removed').to.deep.equal(['app']);
      expect(state(t.agent, 'app').credentialsRemoved?.reason, 'why').to.include(`${what} changed`);
      await t.agent.stop();
    });
  }

  it('keeps the last good credentials when only the key material changed and the refresh fails', async () => {
    const t = agentWorld([asRole('app', 'role-a')], { now: T0 });
    await t.agent.start(t.config);
    await t.advance(1000);
    const good = t.sink.last('app')!;
    t.service.failures.set('role-a', Array.from({ length: 100 }, () => reply(503, 'ServiceUnavailable')));
    await t.agent.reload({ ...t.config, profiles: [asRole('app', 'role-a', { specHash: 'new-cert', key: { certificate: '/certs/rotated.pem', privateKey: '/certs/rotated.key' } })] });
    await t.advance(60_000);
    expect(state(t.agent, 'app').lastError?.code, 'the refresh after the reload failed').to.equal('SERVICE_UNAVAILABLE');
    expect(t.sink.removals, 'profiles whose keys were removed').to.deep.equal([]);
    const s = state(t.agent, 'app');
    expect(s.state, 'state').to.equal('failing');
    expect(s.expiration, 'credentials still served').to.equal(good.expiration.toISOString());
    await t.agent.stop();
  });

  it('removes the keys of a profile that left the schedule at the reload', async () => {
    const t = agentWorld([profile('keep'), profile('drop')], { now: T0 });
    await t.agent.start(t.config);
    await t.advance(1000);
    const r = await t.agent.reload({ ...t.config, profiles: [profile('keep')] });
    expect(r.removed, 'removed profiles').to.deep.equal(['drop']);
    expect(t.sink.removals, 'profiles whose keys were removed').to.deep.equal(['drop']);
    expect(logText(t.log).some((l) => l.startsWith('info removed the credentials of a profile that left the schedule')), 'an info line in the log').to.equal(true);
    await t.agent.stop();
  });
});

describe('status of a profile whose old identity was removed', () => {
  it('says in the status text and the document when and why the keys were removed', async () => {
    const { buildStatusDocument, formatStatusText } = await import('../../src/observability/status-document.js');
    const t = agentWorld([asRole('app', 'role-a')], { now: T0 });
    await t.agent.start(t.config);
    await t.advance(1000);
    t.service.failures.set('role-b', denied());
    await t.agent.reload({ ...t.config, profiles: [asRole('app', 'role-b')] });
    await t.advance(1000);
    const doc = buildStatusDocument({ credentialsFile: '/c', source: 'agent', live: true, pid: 1, now: t.clock.now(), profiles: t.agent.status().map((s) => ({ name: s.name, status: s, marginSeconds: 900 })) });
    const row = doc.profiles[0]!;
    expect(row.credentialsRemoved, 'the row').to.match(/^2026-11-22T00:00:0\d\.000Z: the schedule's role_arn changed from arn:aws:iam::111122223333:role\/role-a to arn:aws:iam::111122223333:role\/role-b$/);
    expect(formatStatusText(doc), 'the text').to.include(`NO CREDENTIALS (removed ${row.credentialsRemoved})`);
    await t.agent.stop();
  });
});

describe('the agent started on a schedule that changed the identity of a profile while it was stopped', () => {
  it('removes the keys the previous run left for the old identity at the first failure of the new one', async () => {
    const why = "the schedule's role_arn changed from arn:aws:iam::111122223333:role/role-a to arn:aws:iam::111122223333:role/role-b while the agent was stopped";
    const t = agentWorld([asRole('app', 'role-b'), profile('other')], { now: T0, changedIdentities: new Map([['app', why]]) });
    t.service.failures.set('role-b', denied());
    const agent = t.agent;
    await agent.start(t.config);
    await t.advance(1000);
    expect(t.sink.removals, 'profiles whose keys were removed').to.deep.equal(['app']);
    expect(state(agent, 'app').credentialsRemoved?.reason, 'why').to.include('role_arn changed');
    expect(state(agent, 'other').state, 'the other profile').to.equal('fresh');
    await agent.stop();
  });
});

describe('changedIdentities (from the state files)', () => {
  it('names a profile whose keys in the file were made for another role, and no other', async () => {
    const { writeState, changedIdentities } = await import('../../src/agent/state-file.js');
    const { accessKeyHash } = await import('../../src/credentials.js');
    const { makeTempDir } = await import('../helpers/tmp.js');
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const tmp = makeTempDir('ra-identity-');
    try {
      const credentialsFile = join(tmp.dir, 'credentials');
      writeFileSync(credentialsFile, '[app]\naws_access_key_id = ASIAOLDAPP\n[same]\naws_access_key_id = ASIASAME\n[edited]\naws_access_key_id = ASIAHAND\n');
      const old = asRole('app', 'role-a');
      const entry = (name: string, p: AgentProfile, key: string) => ({
        name,
        state: 'fresh' as const,
        consecutiveFailures: 0,
        refreshes: 1,
        inFlight: false,
        specHash: p.specHash,
        accessKeyHash: accessKeyHash(key),
        identity: { roleArn: p.session.roleArn, profileArn: p.session.profileArn, trustAnchorArn: p.session.trustAnchorArn },
      });
      await writeState(credentialsFile, {
        version: 1,
        pid: 1,
        command: 'run',
        updatedAt: new Date(T0).toISOString(),
        profiles: [entry('app', old, 'ASIAOLDAPP'), entry('same', asRole('same', 'role-s'), 'ASIASAME'), entry('edited', asRole('edited', 'role-a'), 'ASIAWRITTEN')],
      });
      const changed = await changedIdentities({
        credentialsFile,
        profiles: [asRole('app', 'role-b'), asRole('same', 'role-s'), asRole('edited', 'role-b')],
        rateLimit: { perSecond: 1, burst: 1, concurrency: 1 },
      });
      expect([...changed.entries()], 'changed identities').to.deep.equal([
        ['app', "the schedule's role_arn changed from arn:aws:iam::111122223333:role/role-a to arn:aws:iam::111122223333:role/role-b while the agent was stopped"],
      ]);
    } finally {
      tmp.cleanup();
    }
  });
});
