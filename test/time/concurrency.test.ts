import { expect } from 'chai';
import { AgentError } from '../../src/errors.js';
import { ConcurrencyLimiter } from '../../src/time/concurrency.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ConcurrencyLimiter', () => {
  it('lets at most the limit run at once and starts the rest in arrival order', async () => {
    const limiter = new ConcurrencyLimiter(2);
    const started: number[] = [];
    const finish: (() => void)[] = [];
    const jobs = [0, 1, 2, 3].map((i) =>
      limiter.run(
        () =>
          new Promise<void>((resolve) => {
            started.push(i);
            finish[i] = resolve;
          }),
      ),
    );
    await flush();
    expect(started).to.deep.equal([0, 1]);
    expect([limiter.active, limiter.waiting]).to.deep.equal([2, 2]);
    finish[1]!();
    await flush();
    expect(started).to.deep.equal([0, 1, 2]);
    finish[0]!();
    finish[2]!();
    await flush();
    finish[3]!();
    await Promise.all(jobs);
    expect([limiter.active, limiter.waiting]).to.deep.equal([0, 0]);
  });

  it('frees the slot when the job throws', async () => {
    const limiter = new ConcurrencyLimiter(1);
    const failed = await limiter.run(() => Promise.reject(new Error('nope'))).catch((e: Error) => e.message);
    expect(failed).to.equal('nope');
    expect(limiter.active).to.equal(0);
  });

  it('a release called twice frees only one slot', async () => {
    const limiter = new ConcurrencyLimiter(1);
    const release = await limiter.acquire();
    const next = limiter.acquire();
    const third = limiter.acquire();
    release();
    release();
    await next;
    expect([limiter.active, limiter.waiting]).to.deep.equal([1, 1]);
    void third;
  });

  it('an aborted wait leaves the queue and rejects with ABORTED', async () => {
    const limiter = new ConcurrencyLimiter(1);
    const release = await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort();
    const err = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as AgentError).code).to.equal('ABORTED');
    expect(limiter.waiting).to.equal(0);
    release();
    expect(limiter.active).to.equal(0);
  });

  it('rejects a limit below one', () => {
    expect(() => new ConcurrencyLimiter(0)).to.throw(AgentError, /whole number >= 1/);
  });
});
