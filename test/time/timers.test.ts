import { expect } from 'chai';
import { ManualClock } from '../../src/time/clock.js';
import { ManualScheduler } from '../../src/time/manual-scheduler.js';
import { MAX_TIMEOUT_MS } from '../../src/time/scheduler.js';
import { TimerQueue } from '../../src/time/timers.js';

const T0 = Date.UTC(2025, 0, 1);
const S = 1000;
const DAY = 24 * 3600 * S;

function setup(options: { watchdogMs?: number; unref?: boolean } = {}) {
  const clock = new ManualClock(T0);
  const scheduler = new ManualScheduler(clock);
  const errors: [string, unknown][] = [];
  const queue = new TimerQueue({ clock, scheduler, onError: (k, e) => errors.push([k, e]), ...options });
  const fired: [string, number][] = [];
  const record = (key: string) => () => {
    fired.push([key, clock.now() - T0]);
  };
  return { clock, scheduler, queue, fired, record, errors };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TimerQueue', () => {
  it('fires a timer at its wall-clock time and not before', () => {
    const { scheduler, queue, fired, record } = setup();
    queue.schedule('a', T0 + 10 * S, record('a'));
    scheduler.advance(10 * S - 1);
    expect(fired).to.deep.equal([]);
    scheduler.advance(1);
    expect(fired).to.deep.equal([['a', 10 * S]]);
    expect(queue.size).to.equal(0);
  });

  it('replaces the timer of a key that is scheduled again', () => {
    const { scheduler, queue, fired, record } = setup();
    queue.schedule('a', T0 + 10 * S, record('first'));
    queue.schedule('a', T0 + 20 * S, record('second'));
    scheduler.advance(30 * S);
    expect(fired).to.deep.equal([['second', 20 * S]]);
  });

  it('cancel removes one key and reports whether it was pending', () => {
    const { scheduler, queue, fired, record } = setup();
    queue.schedule('a', T0 + S, record('a'));
    queue.schedule('b', T0 + 2 * S, record('b'));
    expect(queue.cancel('a')).to.equal(true);
    expect(queue.cancel('a')).to.equal(false);
    scheduler.advance(5 * S);
    expect(fired).to.deep.equal([['b', 2 * S]]);
  });

  it('clear removes every timer and leaves nothing pending in the scheduler', () => {
    const { scheduler, queue, fired, record } = setup();
    queue.schedule('a', T0 + S, record('a'));
    queue.schedule('b', T0 + 2 * S, record('b'));
    queue.clear();
    expect(scheduler.pending()).to.have.length(0);
    scheduler.advance(5 * S);
    expect(fired).to.deep.equal([]);
  });

  it('a time already past fires on the next turn, never inside schedule()', () => {
    const { scheduler, queue, fired, record } = setup();
    queue.schedule('a', T0 - 5 * S, record('a'));
    expect(fired, 'nothing fires synchronously').to.deep.equal([]);
    scheduler.advance(1);
    expect(fired).to.deep.equal([['a', 1]]);
  });

  it('waits longer than 2^31-1 ms in chunks instead of firing after 1 ms', () => {
    const { scheduler, queue, fired, record } = setup();
    queue.schedule('far', T0 + 40 * DAY, record('far'));
    expect(Math.max(...scheduler.pending().map((t) => t.requestedMs)), 'no delay above the setTimeout limit').to.be.at.most(MAX_TIMEOUT_MS);
    scheduler.advance(39 * DAY);
    expect(fired).to.deep.equal([]);
    scheduler.advance(DAY);
    expect(fired).to.deep.equal([['far', 40 * DAY]]);
  });

  it('fires a refresh that came due during a suspend within one watchdog period of waking', () => {
    const { scheduler, queue, fired, record } = setup({ watchdogMs: 30 * S });
    queue.schedule('a', T0 + 10 * 60 * S, record('a'));
    scheduler.advance(5 * S);
    scheduler.suspend(3600 * S); // the lid closes for an hour; monotonic timers stand still
    scheduler.advance(24 * S);
    expect(fired).to.deep.equal([], 'the watchdog has not ticked yet');
    scheduler.advance(1 * S);
    expect(fired).to.deep.equal([['a', 3630 * S]]);
    expect(scheduler.pending(), 'the per-key timer is gone too').to.have.length(0);
  });

  it('without the watchdog the same refresh fires only when its monotonic timer ends', () => {
    const { scheduler, queue, fired, record } = setup({ watchdogMs: 0 });
    queue.schedule('a', T0 + 10 * 60 * S, record('a'));
    scheduler.advance(5 * S);
    scheduler.suspend(3600 * S);
    scheduler.advance(10 * 60 * S - 5 * S - 1);
    expect(fired).to.deep.equal([]);
    scheduler.advance(1);
    expect(fired).to.deep.equal([['a', 3600 * S + 10 * 60 * S]]);
  });

  it('re-arms for the remainder when the wall clock was stepped back', () => {
    const { clock, scheduler, queue, fired, record } = setup({ watchdogMs: 0 });
    queue.schedule('a', T0 + 60 * S, record('a'));
    clock.advance(-30 * S);
    scheduler.advance(60 * S);
    expect(fired).to.deep.equal([], 'the wall clock says 30 s are still to go');
    scheduler.advance(30 * S);
    expect(fired).to.deep.equal([['a', 60 * S]]);
  });

  it('runs one watchdog for the whole queue, unref-ed, and only while timers are pending', () => {
    const { scheduler, queue, record } = setup({ watchdogMs: 30 * S });
    expect(scheduler.pending()).to.have.length(0);
    for (const k of ['a', 'b', 'c']) queue.schedule(k, T0 + 3600 * S, record(k));
    const pending = scheduler.pending();
    expect(pending, 'three entry timers and one watchdog').to.have.length(4);
    expect(pending.filter((t) => t.unrefed).map((t) => t.requestedMs)).to.deep.equal([30 * S]);
    queue.clear();
    expect(scheduler.pending()).to.have.length(0);
  });

  it('entry timers keep the process alive by default and do not when unref is asked for', () => {
    const kept = setup({ watchdogMs: 0 });
    kept.queue.schedule('a', T0 + S, kept.record('a'));
    expect(kept.scheduler.pending({ refedOnly: true })).to.have.length(1);
    const loose = setup({ watchdogMs: 0, unref: true });
    loose.queue.schedule('a', T0 + S, loose.record('a'));
    expect(loose.scheduler.pending({ refedOnly: true })).to.have.length(0);
  });

  it('a callback may reschedule its own key', () => {
    const { clock, scheduler, queue, fired } = setup();
    const tick = () => {
      fired.push(['tick', clock.now() - T0]);
      if (fired.length < 3) queue.schedule('t', clock.now() + 10 * S, tick);
    };
    queue.schedule('t', T0 + 10 * S, tick);
    scheduler.advance(60 * S);
    expect(fired).to.deep.equal([['tick', 10 * S], ['tick', 20 * S], ['tick', 30 * S]]);
  });

  it('hands a thrown or rejected error to onError and keeps running other timers', async () => {
    const { scheduler, queue, fired, record, errors } = setup();
    queue.schedule('throws', T0 + S, () => {
      throw new Error('boom');
    });
    queue.schedule('rejects', T0 + S, () => Promise.reject(new Error('later')));
    queue.schedule('ok', T0 + 2 * S, record('ok'));
    scheduler.advance(2 * S);
    await flush();
    expect(errors.map(([k, e]) => [k, (e as Error).message])).to.deep.equal([['throws', 'boom'], ['rejects', 'later']]);
    expect(fired).to.deep.equal([['ok', 2 * S]]);
  });

  it('reports when a key is due', () => {
    const { queue, record } = setup();
    queue.schedule('a', T0 + 5 * S, record('a'));
    expect(queue.has('a')).to.equal(true);
    expect(queue.dueAt('a')).to.equal(T0 + 5 * S);
    expect(queue.dueAt('b')).to.equal(undefined);
  });
});
