/**
 * A fake Scheduler for tests: virtual monotonic time that moves only when told to, paired with a
 * ManualClock for the wall clock. `advance()` moves both together and runs due timers in order;
 * `suspend()` moves only the wall clock, as a laptop lid does to CLOCK_MONOTONIC on Linux. Delays
 * outside 1..2^31-1 ms behave as Node's do (they fire after 1 ms), so code that forgets to chunk
 * long delays fails its tests here too.
 */
import type { ManualClock } from './clock.js';
import { MAX_TIMEOUT_MS, type Scheduler, type TimerHandle } from './scheduler.js';

export interface ManualTimer {
  readonly id: number;
  readonly dueAt: number;
  readonly requestedMs: number;
  unrefed: boolean;
  unref(): ManualTimer;
}

interface Pending extends ManualTimer {
  fn: () => void;
}

export class ManualScheduler implements Scheduler {
  /** Virtual monotonic milliseconds since this scheduler was made. */
  monotonic = 0;
  private nextId = 1;
  private readonly timers = new Map<number, Pending>();

  constructor(readonly clock: ManualClock) {}

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const effective = !(ms >= 1 && ms <= MAX_TIMEOUT_MS) ? 1 : Math.floor(ms);
    const timer: Pending = {
      id: this.nextId++,
      dueAt: this.monotonic + effective,
      requestedMs: ms,
      unrefed: false,
      fn,
      unref() {
        this.unrefed = true;
        return this;
      },
    };
    this.timers.set(timer.id, timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const t = handle as Pending | undefined;
    if (t && typeof t.id === 'number') this.timers.delete(t.id);
  }

  /** Moves monotonic and wall time forward together, running every timer that comes due, in order. */
  advance(ms: number): void {
    const target = this.monotonic + ms;
    for (;;) {
      const next = this.earliest();
      if (!next || next.dueAt > target) break;
      this.clock.advance(next.dueAt - this.monotonic);
      this.monotonic = next.dueAt;
      this.timers.delete(next.id);
      next.fn();
    }
    this.clock.advance(target - this.monotonic);
    this.monotonic = target;
  }

  /** The machine sleeps: the wall clock jumps, monotonic time (and so every timer) stands still. */
  suspend(ms: number): void {
    this.clock.advance(ms);
  }

  /** Timers still pending (all, or only those that would keep a Node process alive). */
  pending(options: { refedOnly?: boolean } = {}): ManualTimer[] {
    return [...this.timers.values()].filter((t) => !options.refedOnly || !t.unrefed).sort((a, b) => a.dueAt - b.dueAt || a.id - b.id);
  }

  private earliest(): Pending | undefined {
    let best: Pending | undefined;
    for (const t of this.timers.values()) if (!best || t.dueAt < best.dueAt || (t.dueAt === best.dueAt && t.id < best.id)) best = t;
    return best;
  }
}
