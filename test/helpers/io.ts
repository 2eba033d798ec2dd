/** A CommandIO that captures what a command prints, for in-process command tests. */
import { PassThrough } from 'node:stream';
import type { CommandIO } from '../../src/cli/io.js';
import { systemClock, type Clock } from '../../src/time/clock.js';

export interface CapturedIO extends CommandIO {
  out(): string;
  err(): string;
  abort(reason?: string): void;
  hangup(): void;
}

export function captureIO(env: NodeJS.ProcessEnv = {}, clock: Clock = systemClock): CapturedIO {
  let out = '';
  let err = '';
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (d) => (out += d.toString()));
  stderr.on('data', (d) => (err += d.toString()));
  const controller = new AbortController();
  const hangups = new Set<() => void>();
  return {
    stdout,
    stderr,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
    clock,
    signal: controller.signal,
    isTTY: false,
    onHangup: (fn) => {
      hangups.add(fn);
      return () => hangups.delete(fn);
    },
    out: () => out,
    err: () => err,
    abort: (reason = 'SIGTERM') => controller.abort(reason),
    hangup: () => hangups.forEach((fn) => fn()),
  };
}
