import { expect } from 'chai';
import type { Credentials } from '../../src/credentials.js';
import { AgentError } from '../../src/errors.js';
import { Job, type JobDeps } from '../../src/agent/job.js';
import type { Signer } from '../../src/keys/signer.js';
import { ManualClock } from '../../src/time/clock.js';
import { nextAttemptAt } from '../../src/time/policy.js';
import type { RefreshPolicy } from '../../src/time/refresh.js';

const T0 = Date.UTC(2026, 0, 1);
const H = 3600_000;
const POLICY: RefreshPolicy = { kind: 'before_expiry', marginSeconds: 900, jitterSeconds: 0 };

/** A Job on a manual clock whose every call fails with `error`; returns the times it schedules. */
function failingJob(error: AgentError, random: number) {
  const clock = new ManualClock(T0);
  const scheduled: number[] = [];
  const deps: JobDeps = {
    clock,
    log: { debug() {}, info() {}, warn() {}, error() {} } as unknown as JobDeps['log'],
    random: () => random,
    timers: { schedule: (key, at) => void (key.endsWith('\0expiry') || scheduled.push(at)), cancel: () => true },
    acquire: async () => ({ release() {} }),
    throttled() {},
    signer: async () => ({}) as Signer,
    call: async () => {
      throw error;
    },
    write: async () => {},
    remove: async () => {},
  };
  const job = new Job({ name: 'p', specHash: 'h', refresh: POLICY, session: { trustAnchorArn: 'ta', profileArn: 'pa', roleArn: 'ra', durationSeconds: 3600 } }, deps);
  return { job, clock, scheduled };
}

const creds = (expiresAt: number): Credentials => ({ accessKeyId: 'ASIAX', secretAccessKey: 's', sessionToken: 't', expiration: new Date(expiresAt) });

describe('the job schedules what the tested policy decides', () => {
  const network = new AgentError('NETWORK', 'down', { retryable: true });
  const denied = new AgentError('ACCESS_DENIED', 'no', { retryable: false });
  const cases = [
    { name: 'a first fetch that fails (no credentials yet)', error: network, expiresAt: undefined },
    { name: 'a retryable failure with two hours of valid credentials', error: network, expiresAt: T0 + 2 * H },
    { name: 'a retryable failure with three minutes left', error: network, expiresAt: T0 + 3 * 60_000 },
    { name: 'a retryable failure after the credentials expired', error: network, expiresAt: T0 - H },
    { name: 'a denied refresh with two hours of valid credentials', error: denied, expiresAt: T0 + 2 * H },
    { name: 'a denied refresh with two minutes left', error: denied, expiresAt: T0 + 2 * 60_000 },
    { name: 'a denied first fetch', error: denied, expiresAt: undefined },
  ];
  for (const c of cases) {
    for (const r of [0, 0.5, 0.999]) {
      it(`${c.name}: three failures in a row retry when nextAttemptAt says (random ${r})`, async () => {
        const { job, clock, scheduled } = failingJob(c.error, r);
        if (c.expiresAt !== undefined) job.adopt(creds(c.expiresAt), T0 - 10 * H);
        for (let failures = 1; failures <= 3; failures++) {
          await job.refresh('test');
          const expected = nextAttemptAt({
            outcome: { kind: 'failure', retryable: c.error.retryable, failures, ...(c.expiresAt !== undefined && { expiresAt: c.expiresAt }) },
            policy: POLICY,
            now: clock.now(),
            random: () => r,
          });
          expect(scheduled.at(-1), `failure ${failures}: the job's retry time vs the policy's`).to.equal(expected);
        }
      });
    }
  }

  it('credentials adopted at a restart keep their phase: their refresh is not spread', () => {
    const policy: RefreshPolicy = { kind: 'before_expiry', marginSeconds: 900, jitterSeconds: 90, spreadFirst: true };
    const { job, scheduled } = failingJob(new AgentError('NETWORK', 'down', { retryable: true }), 0.5);
    job.spec.refresh = policy;
    job.adopt(creds(T0 + 10 * H), T0 - 2 * H);
    const plain = nextAttemptAt({ outcome: { kind: 'success', issuedAt: T0 - 2 * H, expiresAt: T0 + 10 * H, spread: false }, policy, now: T0, random: () => 0.5 });
    expect(scheduled.at(-1), 'refresh of adopted credentials').to.equal(plain);
  });

  it('a success schedules the refresh the policy decides, spread the first time only', async () => {
    const clock = new ManualClock(T0);
    const scheduled: number[] = [];
    const policy: RefreshPolicy = { kind: 'before_expiry', marginSeconds: 900, jitterSeconds: 90, spreadFirst: true };
    const job = new Job(
      { name: 'p', specHash: 'h', refresh: policy, session: { trustAnchorArn: 'ta', profileArn: 'pa', roleArn: 'ra', durationSeconds: 3600 } },
      {
        clock,
        log: { debug() {}, info() {}, warn() {}, error() {} } as unknown as JobDeps['log'],
        random: () => 0.5,
        timers: { schedule: (key, at) => void (key.endsWith('\0expiry') || scheduled.push(at)), cancel: () => true },
        acquire: async () => ({ release() {} }),
        throttled() {},
        signer: async () => ({}) as Signer,
        call: async () => ({ credentials: creds(clock.now() + H) }) as unknown as Awaited<ReturnType<JobDeps['call']>>,
        write: async () => {},
        remove: async () => {},
      },
    );
    await job.refresh('start');
    const first = nextAttemptAt({ outcome: { kind: 'success', issuedAt: T0, expiresAt: T0 + H, spread: true }, policy, now: T0, random: () => 0.5 });
    expect(scheduled.at(-1), 'first refresh: spread').to.equal(first);
    clock.set(first);
    await job.refresh('timer');
    const second = nextAttemptAt({ outcome: { kind: 'success', issuedAt: first, expiresAt: first + H, spread: false }, policy, now: first, random: () => 0.5 });
    expect(scheduled.at(-1), 'second refresh: not spread').to.equal(second);
    expect(first, 'the spread one comes earlier than the plain one would').to.be.below(T0 + H - 900_000 - 45_000);
  });
});
