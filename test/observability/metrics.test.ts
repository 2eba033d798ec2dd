import 'reflect-metadata';
import { expect } from 'chai';
import { register as globalRegistry } from 'prom-client';
import { AgentMetrics, METRIC_PREFIX } from '../../src/observability/metrics.js';
import { makePki, type TestPki } from '../helpers/pki.js';
import { memorySigner } from '../helpers/signer.js';
import { observedWorld, profile, reply, sample } from './support.js';

const m = (n: string) => METRIC_PREFIX + n;

describe('observability: Prometheus metrics', function () {
  this.timeout(10_000);
  let pki: TestPki;
  before(async () => {
    pki = await makePki('ec');
  });

  function world() {
    return observedWorld([profile('a'), profile('b', { refresh: { kind: 'cron', expression: '*/20 * * * *', jitterSeconds: 0 } })], () =>
      memorySigner(pki.leaf.certPem, pki.leaf.keyPem, [pki.intermediate.certPem]),
    );
  }

  it('counts refreshes by profile and result, throttled replies and file replaces, and times CreateSession', async () => {
    const t = world();
    // b: throttled through every in-call retry once, then denied once, then fine.
    t.service.failures.set('b', [...Array.from({ length: 4 }, () => reply(429, 'ThrottlingException')), reply(403, 'AccessDeniedException')]);
    await t.agent.start(t.config);
    await t.advance(2_000);
    await t.advance(70_000); // b's retry after the throttle: denied (not retryable: slow retry)
    await t.advance(130_000); // and b's slow retry succeeds
    const text = await t.metrics.text();
    expect(sample(text, m('refreshes_total'), { profile: 'a', result: 'success' }), 'a: one success').to.equal(1);
    expect(sample(text, m('refreshes_total'), { profile: 'b', result: 'THROTTLED' }), 'b: throttled once').to.equal(1);
    expect(sample(text, m('refreshes_total'), { profile: 'b', result: 'ACCESS_DENIED' }), 'b: denied once').to.equal(1);
    expect(sample(text, m('refreshes_total'), { profile: 'b', result: 'success' }), 'b: then a success').to.equal(1);
    expect(sample(text, m('throttled_total'), { profile: 'b' })).to.equal(1);
    expect(sample(text, m('throttled_total'), { profile: 'a' }), 'a was never throttled: no series').to.equal(undefined);
    expect(sample(text, m('credentials_file_replaces_total')), 'one replace per successful refresh here').to.equal(t.sink.replaceCount).and.to.equal(2);
    expect(sample(text, m('create_session_duration_seconds_count'), { profile: 'b' }), 'every outcome of b timed').to.equal(3);
    expect(sample(text, m('create_session_duration_seconds_bucket'), { profile: 'a', le: '+Inf' })).to.equal(1);
    expect(text).to.match(new RegExp(`^# TYPE ${m('refreshes_total')} counter$`, 'm'));
    expect(text).to.match(new RegExp(`^# TYPE ${m('create_session_duration_seconds')} histogram$`, 'm'));
    await t.agent.stop();
  });

  it('computes expiry, not-after, last success and health gauges from the agent status at scrape time', async () => {
    const t = world();
    await t.agent.start(t.config);
    await t.advance(2_000);
    const status = t.agent.status();
    const a = status.find((s) => s.name === 'a')!;
    const text = await t.metrics.text();
    expect(sample(text, m('credentials_expiry_timestamp_seconds'), { profile: 'a' })).to.equal(Date.parse(a.expiration!) / 1000);
    expect(sample(text, m('last_success_timestamp_seconds'), { profile: 'a' })).to.equal(Date.parse(a.lastSuccess!) / 1000);
    const leafSubject = pki.leaf.nodeCert.subject.replace(/\n/g, ', ');
    const caSubject = pki.intermediate.nodeCert.subject.replace(/\n/g, ', ');
    expect(sample(text, m('certificate_not_after_timestamp_seconds'), { profile: 'a', position: '0', subject: leafSubject }), 'the leaf at position 0').to.equal(
      Math.floor(Date.parse(pki.leaf.nodeCert.validTo) / 1000),
    );
    expect(sample(text, m('certificate_not_after_timestamp_seconds'), { profile: 'b', position: '1', subject: caSubject }), 'the intermediate at position 1').to.equal(
      Math.floor(Date.parse(pki.intermediate.nodeCert.validTo) / 1000),
    );
    expect(sample(text, m('profile_healthy'), { profile: 'a' })).to.equal(1);
    expect(sample(text, m('profile_consecutive_failures'), { profile: 'a' })).to.equal(0);
    expect(sample(text, m('schedule_reloads_total'), { result: 'success' }), 'reload counters exist from the start').to.equal(0);

    // 50 minutes on, a has 10 minutes left (margin 15m): the gauge follows without any event.
    t.service.failures.set('a', Array.from({ length: 40 }, () => reply(403, 'AccessDeniedException')));
    t.clock.advance(50 * 60_000);
    const later = await t.metrics.text();
    expect(sample(later, m('profile_healthy'), { profile: 'a' }), 'a inside its margin').to.equal(0);
    expect(sample(later, m('profile_healthy'), { profile: 'b' }), 'b (cron, 60 s margin) still healthy').to.equal(1);
    await t.agent.stop();
  });

  it('drops the gauges of a profile removed by a reload, and counts reloads by result', async () => {
    const t = world();
    await t.agent.start(t.config);
    await t.advance(2_000);
    await t.agent.reload({ ...t.config, profiles: [t.config.profiles[0]!] });
    t.metrics.reloaded('success');
    t.metrics.reloaded('rejected');
    t.metrics.reloaded('rejected');
    const text = await t.metrics.text();
    expect(sample(text, m('credentials_expiry_timestamp_seconds'), { profile: 'b' }), 'b is gone').to.equal(undefined);
    expect(sample(text, m('credentials_expiry_timestamp_seconds'), { profile: 'a' })).to.be.a('number');
    expect(sample(text, m('schedule_reloads_total'), { result: 'success' })).to.equal(1);
    expect(sample(text, m('schedule_reloads_total'), { result: 'rejected' })).to.equal(2);
    await t.agent.stop();
  });

  it('keeps its series in a private registry, with prefixed process metrics only when asked', async () => {
    const before = (await globalRegistry.metrics()).length;
    const plain = new AgentMetrics();
    const withProcess = new AgentMetrics({ processMetrics: true });
    plain.reloaded('success');
    expect(await globalRegistry.metrics(), 'the global registry is untouched').to.have.length(before);
    expect(await plain.text()).to.not.include('process_cpu');
    const text = await withProcess.text();
    expect(text).to.match(new RegExp(`^${m('process_cpu_user_seconds_total')} `, 'm'));
    expect(text.split('\n').filter((l) => l.startsWith('# TYPE ') && !l.startsWith(`# TYPE ${METRIC_PREFIX}`)), 'every name prefixed').to.deep.equal([]);
  });
});
