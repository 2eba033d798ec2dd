import { expect } from 'chai';
import { AgentError } from '../../src/errors.js';
import { ManualClock } from '../../src/time/clock.js';
import { ManualScheduler } from '../../src/time/manual-scheduler.js';
import { TokenBucket, type TokenBucketOptions } from '../../src/time/token-bucket.js';

const T0 = Date.UTC(2025, 0, 1);
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(options: Partial<TokenBucketOptions> = {}) {
  const clock = new ManualClock(T0);
  const scheduler = new ManualScheduler(clock);
  const bucket = new TokenBucket({ ratePerSecond: 8, burst: 8, clock, scheduler, ...options });
  const granted: number[] = [];
  const take = (signal?: AbortSignal) =>
    bucket.take(signal).then(
      () => {
        granted.push(clock.now() - T0);
      },
      (e: unknown) => {
        granted.push(-1);
        throw e;
      },
    );
  return { clock, scheduler, bucket, granted, take };
}

describe('TokenBucket', () => {
  it('grants a full burst at once', async () => {
    const { bucket, take, granted } = setup();
    await Promise.all(Array.from({ length: 8 }, () => take()));
    expect(granted).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(bucket.available).to.equal(0);
  });

  it('spaces requests beyond the burst at the configured rate, in order', async () => {
    const { scheduler, take, granted } = setup({ ratePerSecond: 4, burst: 2 });
    const all = Array.from({ length: 5 }, () => take());
    await flush();
    expect(granted).to.deep.equal([0, 0]);
    for (let i = 0; i < 4; i++) {
      scheduler.advance(250);
      await flush();
    }
    await Promise.all(all);
    expect(granted).to.deep.equal([0, 0, 250, 500, 750]);
  });

  it('refills up to the burst and no further while idle', () => {
    const { scheduler, bucket } = setup({ ratePerSecond: 2, burst: 3 });
    for (let i = 0; i < 3; i++) expect(bucket.tryTake()).to.equal(true);
    expect(bucket.tryTake()).to.equal(false);
    scheduler.advance(500);
    expect(bucket.available).to.equal(1);
    scheduler.advance(60_000);
    expect(bucket.available).to.equal(3);
  });

  it('never sets a timer while nobody waits', () => {
    const { scheduler, bucket } = setup();
    bucket.tryTake();
    expect(scheduler.pending()).to.have.length(0);
  });

  it('an aborted wait rejects with ABORTED and the next waiter still gets the token', async () => {
    const { scheduler, take, granted } = setup({ ratePerSecond: 1, burst: 1 });
    await take();
    const controller = new AbortController();
    const first = take(controller.signal);
    const second = take();
    controller.abort();
    const err = await first.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(AgentError);
    expect((err as AgentError).code).to.equal('ABORTED');
    scheduler.advance(1000);
    await second;
    expect(granted).to.deep.equal([0, -1, 1000]);
  });

  it('an already aborted signal rejects at once without taking a token', async () => {
    const { bucket } = setup({ burst: 1 });
    const controller = new AbortController();
    controller.abort();
    const err = await bucket.take(controller.signal).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as AgentError).code).to.equal('ABORTED');
    expect(bucket.available).to.equal(1);
  });

  it('slowDown halves the rate, drops the saved burst, then recovers linearly', () => {
    const { scheduler, bucket } = setup({ ratePerSecond: 8, burst: 8, recoveryMs: 60_000 });
    bucket.slowDown(0.5);
    expect(bucket.rate).to.equal(4);
    expect(bucket.available).to.equal(0);
    scheduler.advance(15_000);
    expect(bucket.rate).to.equal(6);
    scheduler.advance(15_000);
    expect(bucket.rate).to.equal(8);
    scheduler.advance(15_000);
    expect(bucket.rate, 'never above the configured rate').to.equal(8);
  });

  it('counts the tokens gained during recovery as the integral of the rising rate', () => {
    const { scheduler, bucket } = setup({ ratePerSecond: 8, burst: 100, recoveryMs: 8_000 });
    while (bucket.tryTake());
    bucket.slowDown(0.5);
    scheduler.advance(4_000); // rate 4 → 8 linearly over 4 s: (4+8)/2·4 = 24 tokens
    expect(bucket.available).to.equal(24);
    scheduler.advance(1_000); // then flat at 8
    expect(bucket.available).to.equal(32);
  });

  it('several throttled replies at once slow down once', () => {
    const { scheduler, bucket } = setup({ ratePerSecond: 8, coalesceMs: 1_000 });
    for (let i = 0; i < 4; i++) bucket.slowDown(0.5);
    expect(bucket.rate).to.equal(4);
    scheduler.advance(1_000);
    bucket.slowDown(0.5);
    expect(bucket.rate).to.be.closeTo((4 + 8 / 60) / 2, 1e-9);
  });

  it('repeated throttling stops at the minimum rate', () => {
    const { scheduler, bucket } = setup({ ratePerSecond: 8, minRatePerSecond: 1, coalesceMs: 0, recoveryMs: 1e12 });
    for (let i = 0; i < 10; i++) {
      bucket.slowDown(0.5);
      scheduler.advance(1);
    }
    expect(bucket.rate).to.be.closeTo(1, 1e-6);
  });

  it('a waiter queued before a slowdown is served at the reduced rate', async () => {
    const { scheduler, bucket, take, granted } = setup({ ratePerSecond: 2, burst: 1, recoveryMs: 1e12 });
    await take();
    const waiting = take();
    bucket.slowDown(0.5); // 1 token per second now
    scheduler.advance(500);
    await flush();
    expect(granted).to.deep.equal([0], 'not yet at the old 500 ms spacing');
    scheduler.advance(500);
    await waiting;
    expect(granted).to.deep.equal([0, 1000]);
  });

  it('rejects a rate or burst that could never grant a token', () => {
    const clock = new ManualClock(T0);
    const scheduler = new ManualScheduler(clock);
    expect(() => new TokenBucket({ ratePerSecond: 0, burst: 1, clock, scheduler })).to.throw(AgentError, /rate must be positive/);
    expect(() => new TokenBucket({ ratePerSecond: 1, burst: 0, clock, scheduler })).to.throw(AgentError, /burst must be at least 1/);
  });
});
