/**
 * Fault injection for the emulator: fail the next N requests with a chosen status, throttle above
 * a request rate, delay every reply, drop the next N connections without a reply, and issue
 * short-lived credentials. The rate window reads the injected Clock, so tests move time by hand.
 * Decisions are made per request, before any verification, as a front door would.
 */
import type { Clock } from '../time/clock.js';
import { defaultErrorType, type ServiceError } from './service-error.js';

export interface FailSpec {
  count: number;
  status: number;
  errorType: string;
  message?: string;
}

/** What is in force; also the shape of `faults:` in the config file. */
export interface FaultSettings {
  failNext?: FailSpec;
  /** Requests accepted per rolling second; more get 429 ThrottlingException. */
  throttleRps?: number;
  /** Added before every reply (and before a drop). */
  latencyMs?: number;
  /** Connections to destroy without a reply. */
  dropNext?: number;
  /** Credentials live this long, ignoring the 900 s minimum and the profile's duration. */
  shortLivedSeconds?: number;
}

export interface FaultControl {
  /** Fail the next `count` requests with `status` (default 503 ServiceUnavailableException). */
  failNext(count: number, status?: number, errorType?: string, message?: string): void;
  /** Accept at most `requestsPerSecond` per rolling second; undefined lifts the limit. */
  throttle(requestsPerSecond: number | undefined): void;
  /** Delay every reply by `ms` (0 for none). */
  latency(ms: number): void;
  /** Destroy the next `count` connections without replying. */
  dropNext(count: number): void;
  /** Issue credentials that expire after `seconds`; undefined restores normal durations. */
  shortLived(seconds: number | undefined): void;
  /** Lift every fault. */
  reset(): void;
  /** A copy of what is in force. */
  settings(): FaultSettings;
}

export type FaultDecision = { kind: 'pass' } | { kind: 'drop' } | { kind: 'fail'; error: ServiceError };

function count(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what} must be a whole number >= 0, got ${n}`);
  return n;
}

export class Faults implements FaultControl {
  private state: FaultSettings = {};
  /** Times (clock ms) of requests accepted within the current rate window. */
  private accepted: number[] = [];

  constructor(
    private readonly clock: Clock,
    initial: FaultSettings = {},
  ) {
    this.apply(initial);
  }

  /** Replaces what is in force with `s` (validated). */
  apply(s: FaultSettings): void {
    this.reset();
    if (s.failNext) this.failNext(s.failNext.count, s.failNext.status, s.failNext.errorType, s.failNext.message);
    if (s.throttleRps !== undefined) this.throttle(s.throttleRps);
    if (s.latencyMs !== undefined) this.latency(s.latencyMs);
    if (s.dropNext !== undefined) this.dropNext(s.dropNext);
    if (s.shortLivedSeconds !== undefined) this.shortLived(s.shortLivedSeconds);
  }

  failNext(n: number, status = 503, errorType?: string, message?: string): void {
    if (!Number.isInteger(status) || status < 400 || status > 599) throw new RangeError(`status must be 400..599, got ${status}`);
    const spec: FailSpec = { count: count(n, 'count'), status, errorType: errorType ?? defaultErrorType(status) };
    if (message !== undefined) spec.message = message;
    this.state.failNext = spec;
  }

  throttle(rps: number | undefined): void {
    if (rps === undefined) {
      delete this.state.throttleRps;
      return;
    }
    if (!(rps > 0) || !Number.isFinite(rps)) throw new RangeError(`requests per second must be > 0, got ${rps}`);
    this.state.throttleRps = rps;
    this.accepted = [];
  }

  latency(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`latency must be >= 0 ms, got ${ms}`);
    if (ms === 0) delete this.state.latencyMs;
    else this.state.latencyMs = ms;
  }

  dropNext(n: number): void {
    this.state.dropNext = count(n, 'count');
  }

  shortLived(seconds: number | undefined): void {
    if (seconds === undefined) {
      delete this.state.shortLivedSeconds;
      return;
    }
    if (!Number.isInteger(seconds) || seconds < 1) throw new RangeError(`short-lived seconds must be a whole number >= 1, got ${seconds}`);
    this.state.shortLivedSeconds = seconds;
  }

  reset(): void {
    this.state = {};
    this.accepted = [];
  }

  settings(): FaultSettings {
    return structuredClone(this.state);
  }

  get latencyMs(): number {
    return this.state.latencyMs ?? 0;
  }

  get shortLivedSeconds(): number | undefined {
    return this.state.shortLivedSeconds;
  }

  /** Called once per request, first thing: drop, fail or throttle it, or let it through. */
  decide(): FaultDecision {
    const s = this.state;
    if (s.dropNext) {
      s.dropNext -= 1;
      if (s.dropNext === 0) delete s.dropNext;
      return { kind: 'drop' };
    }
    if (s.failNext && s.failNext.count > 0) {
      const f = s.failNext;
      f.count -= 1;
      if (f.count === 0) delete s.failNext;
      return {
        kind: 'fail',
        error: {
          status: f.status,
          errorType: f.errorType,
          message: f.message ?? `Injected fault: ${f.errorType}`,
          reason: 'FAULT_INJECTED',
        },
      };
    }
    if (s.throttleRps !== undefined) {
      const now = this.clock.now();
      this.accepted = this.accepted.filter((t) => t > now - 1000 && t <= now);
      if (this.accepted.length >= s.throttleRps) {
        return { kind: 'fail', error: { status: 429, errorType: 'ThrottlingException', message: 'Rate exceeded', reason: 'THROTTLED' } };
      }
      this.accepted.push(now);
    }
    return { kind: 'pass' };
  }
}
