import { expect } from 'chai';
import type { Credentials } from '../../src/credentials.js';
import type { Agent, AgentProfile } from '../../src/agent/agent.js';
import { AgentError } from '../../src/errors.js';
import type { Signer } from '../../src/keys/signer.js';
import { Redactor } from '../../src/log/redact.js';
import { agentWorld, logText, profile } from '../helpers/agent-fakes.js';

const T0 = Date.UTC(2026, 10, 22, 0, 0, 0);
interface SetupOptions {
  loadSigner?: () => Promise<Signer>;
  /** Credentials already in the file, by profile. */
  existing?: Map<string, { credentials: Credentials; issuedAt: number }>;
  redactor?: Redactor;
}

const setup = (profiles: AgentProfile[], opts: SetupOptions = {}) => agentWorld(profiles, { now: T0, ...opts });

const state = (agent: Agent, name: string) => agent.status().find((s) => s.name === name)!;

describe('the agent (jobs on a manual clock)', () => {
  it('fills every profile at start and refreshes each one margin before expiry', async () => {
    const t = setup([profile('a'), profile('b')]);
    await t.agent.start(t.config);
    await t.advance(1000);
    expect(t.sink.writes.map((w) => w.profile).sort()).to.deep.equal(['a', 'b']);
    expect(state(t.agent, 'a').state).to.equal('fresh');
    const expires = t.sink.last('a')!.expiration.getTime();
    expect(state(t.agent, 'a').nextRefresh).to.equal(new Date(expires - 900_000).toISOString());
    await t.advance(2700_000 - 1000 - 2000);
    expect(t.service.calls.length, 'no refresh before the margin').to.equal(2);
    await t.advance(5_000);
    expect(t.service.calls.length, 'one more call per profile at the margin').to.equal(4);
    await t.agent.stop();
  });

  it('coalesces a timer, a rotation and a manual trigger arriving together into one call', async () => {
    const t = setup([profile('a')]);
    await t.agent.start(t.config);
    await t.advance(1000);
    const before = t.service.calls.length;
    await Promise.all([t.agent.refreshNow(['a']), t.agent.refreshNow(['a']), t.agent.refreshNow()]);
    expect(t.service.calls.length - before).to.equal(1);
    await t.agent.stop();
  });

  it('keeps the last good credentials while refreshes fail, retries sooner as expiry nears, and recovers', async () => {
    const t = setup([profile('a')]);
    await t.agent.start(t.config);
    await t.advance(1000);
    const good = t.sink.last('a')!;
    const outage = Array.from({ length: 40 }, () => ({ status: 503, headers: {}, body: '{"message":"down"}' }));
    t.service.failures.set('a', outage);
    await t.advance(2700_000 + 10_000); // the refresh comes due and fails
    const s = state(t.agent, 'a');
    expect(s.state).to.equal('failing');
    expect(s.expiration).to.equal(good.expiration.toISOString());
    expect(s.lastError?.code).to.equal('SERVICE_UNAVAILABLE');
    expect(t.sink.last('a')).to.equal(good);
    const warn = logText(t.log).find((l) => l.startsWith('warn refresh failed; keeping the current credentials'));
    expect(warn, 'a warning that names the current expiry').to.include(`"current_credentials_expire":"${good.expiration.toISOString()}"`);
    const retryIn = Number(/"retry_in_s":(\d+)/.exec(warn!)![1]) * 1000;
    expect(retryIn, 'retry well before expiry').to.be.at.most((good.expiration.getTime() - t.clock.now()) / 4);
    t.service.failures.set('a', []);
    await t.advance(retryIn + 60_000);
    expect(state(t.agent, 'a').state).to.equal('fresh');
    expect(t.sink.last('a')).to.not.equal(good);
    expect(logText(t.log).some((l) => l.startsWith('info profile recovered'))).to.equal(true);
    await t.agent.stop();
  });

  it('marks a profile expired when its credentials run out during an outage, and says so once', async () => {
    const t = setup([profile('a')]);
    await t.agent.start(t.config);
    await t.advance(1000);
    t.service.failures.set('a', Array.from({ length: 10_000 }, () => new AgentError('NETWORK', 'down', { retryable: true })));
    await t.advance(3700_000);
    expect(state(t.agent, 'a').state).to.equal('expired');
    expect(logText(t.log).filter((l) => l.includes('credentials in the file have expired; refreshes keep failing')).length).to.equal(1);
    await t.agent.stop();
  });

  it('does not let one failing profile delay another', async () => {
    const t = setup([profile('bad'), profile('good')]);
    t.service.failures.set('bad', Array.from({ length: 1000 }, () => ({ status: 403, headers: { 'x-amzn-errortype': 'AccessDeniedException' }, body: '{"message":"no"}' })));
    await t.agent.start(t.config);
    await t.advance(1000);
    expect(state(t.agent, 'good').state).to.equal('fresh');
    expect(state(t.agent, 'bad').state).to.equal('backing-off');
    expect(state(t.agent, 'bad').lastError?.code).to.equal('ACCESS_DENIED');
    const denied = t.service.calls.filter((c) => c === 'bad').length;
    await t.advance(30_000);
    expect(t.service.calls.filter((c) => c === 'bad').length, 'a denial is not retried in a tight loop').to.equal(denied);
    await t.agent.stop();
  });

  it('never retries a wrong PIN on its own', async () => {
    const t = setup([profile('a')], {
      loadSigner: async () => {
        throw new AgentError('PKCS11_PIN', 'token "t": the PIN is incorrect');
      },
    });
    await t.agent.start(t.config);
    await t.advance(1000);
    await t.advance(3600_000);
    expect(t.service.calls).to.deep.equal([]);
    expect(state(t.agent, 'a').nextRefresh).to.equal(undefined);
    expect(state(t.agent, 'a').lastError?.code).to.equal('PKCS11_PIN');
    await t.agent.stop();
  });

  it('reloads: unchanged profiles keep their timers and credentials, changed ones refresh, removed ones stop', async () => {
    const t = setup([profile('keep'), profile('change'), profile('drop')]);
    await t.agent.start(t.config);
    await t.advance(1000);
    const calls = t.service.calls.length;
    const keepNext = state(t.agent, 'keep').nextRefresh;
    const r = await t.agent.reload({
      ...t.config,
      profiles: [profile('keep'), profile('change', { specHash: 'new' }), profile('added')],
    });
    expect(r).to.deep.equal({ added: ['added'], changed: ['change'], removed: ['drop'], unchanged: ['keep'] });
    await t.advance(1000);
    expect(t.service.calls.slice(calls).sort()).to.deep.equal(['added', 'change']);
    expect(state(t.agent, 'keep').nextRefresh).to.equal(keepNext);
    expect(t.agent.status().map((s) => s.name).sort()).to.deep.equal(['added', 'change', 'keep']);
    await t.agent.stop();
  });

  it('adopts credentials already in the file instead of calling at start', async () => {
    const existing: Credentials = { accessKeyId: 'ASIAOLD', secretAccessKey: 's', sessionToken: 't', expiration: new Date(T0 + 1800_000) };
    const t = setup([profile('a')], { existing: new Map([['a', { credentials: existing, issuedAt: T0 - 1800_000 }]]) });
    const agent = t.agent;
    await agent.start(t.config);
    await t.advance(1000);
    expect(t.service.calls).to.deep.equal([]);
    expect(state(agent, 'a').state).to.equal('fresh');
    await t.advance(900_000);
    expect(t.service.calls).to.deep.equal(['a']);
    await agent.stop();
  });

  it('masks issued and adopted credentials in its logs, holding two generations per profile, a removed profile\'s too', async () => {
    const redactor = new Redactor();
    const adopted: Credentials = { accessKeyId: 'ASIAOLD', secretAccessKey: 'adopted-secret-key', sessionToken: 'adopted-session-token', expiration: new Date(T0 + 1800_000) };
    const t = setup([profile('a'), profile('b')], { redactor, existing: new Map([['a', { credentials: adopted, issuedAt: T0 - 1800_000 }]]) });
    const agent = t.agent;
    await agent.start(t.config);
    await t.advance(1000);
    expect(redactor.redact('adopted-session-token'), 'adopted credentials are masked').to.equal('****oken');
    for (let i = 0; i < 5; i++) await agent.refreshNow();
    await t.advance(1000);
    expect(t.service.issued.length).to.equal(11);
    expect(redactor.size, 'two generations of two secrets for each of two profiles').to.equal(8);
    const latest = t.sink.last('b')!;
    expect(redactor.redact(latest.sessionToken)).to.equal(`****${latest.sessionToken.slice(-4)}`);
    await agent.reload({ ...t.config, profiles: [profile('a')] });
    expect(redactor.redact(latest.sessionToken), 'b removed: its last credentials stay valid at AWS until they expire').to.equal(`****${latest.sessionToken.slice(-4)}`);
    expect(redactor.size).to.equal(8);
    await agent.stop();
  });
});
