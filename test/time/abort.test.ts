import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { onAbort } from '../../src/time/abort.js';

describe('abort callbacks (one listener per signal)', () => {
  it('runs each subscribed callback once at the abort, skips those taken off, and keeps one real listener however many come and go', () => {
    const controller = new AbortController();
    const { signal } = controller;
    const ran: string[] = [];
    for (let i = 0; i < 1000; i++) onAbort(signal, () => ran.push('gone'))();
    const offA = onAbort(signal, () => ran.push('a'));
    onAbort(signal, () => ran.push('b'));
    const offC = onAbort(signal, () => ran.push('c'));
    offC();
    expect(getEventListeners(signal, 'abort').length, 'real listeners on the signal').to.equal(1);
    controller.abort();
    controller.abort();
    expect(ran).to.deep.equal(['a', 'b']);
    offA();
    expect(ran, 'taking a callback off after the abort changes nothing').to.deep.equal(['a', 'b']);
  });

  it('keeps signals apart, and a callback that throws does not stop the others (the error is reported)', async () => {
    const one = new AbortController();
    const two = new AbortController();
    const ran: string[] = [];
    onAbort(one.signal, () => {
      throw new Error('boom');
    });
    onAbort(one.signal, () => ran.push('one'));
    onAbort(two.signal, () => ran.push('two'));
    // mocha's own handler would fail the test: only ours may see this one.
    const saved = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    let reported: unknown;
    process.once('uncaughtException', (e) => (reported = e));
    try {
      one.abort();
      expect(ran, 'the callback after the one that threw').to.deep.equal(['one']);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.removeAllListeners('uncaughtException');
      for (const l of saved) process.on('uncaughtException', l);
    }
    expect((reported as Error | undefined)?.message, 'the error, reported').to.equal('boom');
    two.abort();
    expect(ran).to.deep.equal(['one', 'two']);
  });
});
