/**
 * Abort listeners for the refresh path: one real 'abort' listener per signal, with a Set of
 * callbacks behind it. A job's signal lives as long as the job, and each refresh used to add and
 * remove an EventTarget listener on it two or three times (waiting for a concurrency slot, a
 * token, the request itself): ~5 µs a pair in Node 20, ~15-20 µs of every refresh in a
 * 1000-profile burst. Adding to a Set and deleting from it costs a small fraction of that.
 *
 * Same contract as `signal.addEventListener('abort', fn, { once: true })`: `fn` runs once, when
 * the signal aborts; nothing runs for a signal that had already aborted (callers check `aborted`
 * first). The function returned takes `fn` off again; calling it after the abort does nothing.
 * `abortableSleep` is the retry wait built on it, for the client (node's timers) and the agent (its
 * scheduler, a fake one in tests).
 */
import { AgentError } from '../errors.js';
import type { Scheduler } from './scheduler.js';

const callbacks = new WeakMap<AbortSignal, Set<() => void>>();

export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  const set = callbacks.get(signal) ?? listen(signal);
  set.add(fn);
  return () => {
    set.delete(fn);
  };
}

/** The signal's one listener, running the callbacks subscribed when it fires. */
function listen(signal: AbortSignal): Set<() => void> {
  const set = new Set<() => void>();
  callbacks.set(signal, set);
  signal.addEventListener(
    'abort',
    () => {
      callbacks.delete(signal);
      for (const f of set) {
        try {
          f();
        } catch (e) {
          // As an EventTarget listener's exception would: reported, not stopping the others.
          queueMicrotask(() => {
            throw e;
          });
        }
      }
      set.clear();
    },
    { once: true },
  );
  return set;
}

/** Waits `ms` on `scheduler`; rejects with ABORTED ("cancelled") when `signal` aborts first. */
export function abortableSleep(scheduler: Scheduler, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AgentError('ABORTED', 'cancelled'));
    const handle = scheduler.setTimeout(() => {
      unsubscribe?.();
      resolve();
    }, ms);
    const unsubscribe =
      signal &&
      onAbort(signal, () => {
        scheduler.clearTimeout(handle);
        reject(new AgentError('ABORTED', 'cancelled'));
      });
  });
}
