/**
 * What a command gets from main.ts: its arguments, streams and environment. Commands return an exit
 * code; only main.ts exits. Long-running commands stop when `signal` aborts.
 */
import type { Writable } from 'node:stream';
import type { Clock } from '../time/clock.js';

export interface CommandIO {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  /** Aborted on SIGINT/SIGTERM for long-running commands. */
  signal: AbortSignal;
  /** True when stderr is a terminal (human output) rather than a pipe or a journal. */
  isTTY: boolean;
  /** Subscribes to SIGHUP (reload); returns the unsubscribe function. */
  onHangup?: (fn: () => void) => () => void;
}

/** Documented exit codes, one per class of failure. */
export const EXIT = {
  OK: 0,
  /** Anything unexpected. */
  INTERNAL: 1,
  /** Bad flags, config, certificate, key, ARN: fix the input. */
  BAD_INPUT: 2,
  /** The service refused (AccessDenied, Validation, ResourceNotFound). */
  DENIED: 3,
  /** Throttled after every retry. */
  THROTTLED: 4,
  /** Network, TLS, timeout, 5xx after every retry. */
  UNAVAILABLE: 5,
  /** `once`: some profiles failed. */
  PARTIAL: 6,
  /** Cut short by SIGINT / SIGTERM (128 + the signal's number, as a shell reports it). */
  INTERRUPTED: 130,
  TERMINATED: 143,
} as const;
