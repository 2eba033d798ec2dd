/**
 * A counting semaphore for CreateSession calls in flight (the schedule's rate_limit.concurrency):
 * the token bucket spaces the calls out, this caps how many wait on the network at once. First come
 * first served; an aborted signal removes only that caller from the queue. Release functions are
 * idempotent, so a finally-block that runs twice cannot free someone else's slot.
 */
import { AgentError } from '../errors.js';
import { onAbort } from './abort.js';

export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
  unsubscribe: (() => void) | undefined;
}

export class ConcurrencyLimiter {
  private inUse = 0;
  private readonly queue: Waiter[] = [];

  constructor(readonly limit: number) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new AgentError('ARGUMENT_INVALID', `concurrency limit must be a whole number >= 1, got ${limit}`);
  }

  get active(): number {
    return this.inUse;
  }

  get waiting(): number {
    return this.queue.length;
  }

  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(aborted(signal));
    if (this.inUse < this.limit && this.queue.length === 0) {
      this.inUse++;
      return Promise.resolve(this.releaser());
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = { grant: resolve, unsubscribe: undefined };
      if (signal) {
        waiter.unsubscribe = onAbort(signal, () => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(aborted(signal));
        });
      }
      this.queue.push(waiter);
    });
  }

  /** Runs `fn` holding a slot, releasing it however `fn` ends. */
  async run<T>(fn: () => Promise<T> | T, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private releaser(): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.queue.shift();
      if (next) {
        next.unsubscribe?.();
        next.grant(this.releaser()); // the slot passes straight on; inUse is unchanged
      } else {
        this.inUse--;
      }
    };
  }
}

function aborted(signal: AbortSignal): AgentError {
  return new AgentError('ABORTED', 'waiting for a CreateSession slot was cancelled', { cause: signal.reason });
}
