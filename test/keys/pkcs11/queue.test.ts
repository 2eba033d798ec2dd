import { expect } from 'chai';
import { SerialQueue } from '../../../src/keys/pkcs11/queue.js';

describe('the per-token serial queue', () => {
  it('runs tasks one at a time in call order, even when later ones are quicker', async () => {
    const q = new SerialQueue();
    const events: string[] = [];
    const task = (name: string, ticks: number) => async () => {
      events.push(`start ${name}`);
      for (let i = 0; i < ticks; i++) await Promise.resolve();
      events.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([q.run(task('a', 5)), q.run(task('b', 0)), q.run(task('c', 2))]);
    expect(results).to.deep.equal(['a', 'b', 'c']);
    expect(events).to.deep.equal(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('keeps running after a task fails, and hands the failure to that task\'s caller only', async () => {
    const q = new SerialQueue();
    const failed = q.run(() => {
      throw new Error('boom');
    });
    const next = q.run(() => 'ok');
    let message = '';
    await failed.catch((e: Error) => (message = e.message));
    expect(message).to.equal('boom');
    expect(await next).to.equal('ok');
  });
});
