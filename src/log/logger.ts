/**
 * The one logger: winston's formats writing to stderr, human text on a terminal and JSON lines
 * otherwise, every record passed through the Redactor first. Library code takes the small `Log`
 * interface so tests can capture lines without winston.
 *
 * A record goes through one combined winston format (redact, timestamp, json or printf) and its
 * line is written to the stream at once. winston's Logger would carry it through three object-mode
 * streams (the logger's Transform, its pipe, the transport's Writable) and a setImmediate per line:
 * records of many shapes kept V8 deoptimizing and recompiling those stream functions, a large part
 * of the CPU a 1000-profile refresh burst spent on logging.
 */
import { configure } from 'safe-stable-stringify';
import winston from 'winston';
import type { LogLevel } from './level.js';
import { Redactor } from './redact.js';

export type { LogLevel } from './level.js';

/** Where winston's formats read the level and put the finished line (triple-beam's symbols). */
const LEVEL = Symbol.for('level');
const MESSAGE = Symbol.for('message');
export type LogMeta = Record<string, unknown>;

export interface Log {
  error(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  info(message: string, meta?: LogMeta): void;
  debug(message: string, meta?: LogMeta): void;
}

export const silentLog: Log = { error() {}, warn() {}, info() {}, debug() {} };

export interface LoggerOptions {
  level?: LogLevel;
  /** Human text when true, JSON lines otherwise. */
  human: boolean;
  redactor: Redactor;
  stream: NodeJS.WritableStream;
}

/**
 * winston.format.json() without its per-line set-up: logform configures safe-stable-stringify anew
 * for every record (dozens of closures a line). Same library, same options, so the same line:
 * keys sorted at every level, a BigInt written as a string.
 */
const stringify = configure({});
const bigintAsString = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);
const json = winston.format((info) => {
  (info as Record<symbol, unknown>)[MESSAGE] = stringify(info, bigintAsString);
  return info;
});

export function createLogger(o: LoggerOptions): Log & { setLevel(level: LogLevel): void; close(): void } {
  // In place, field by field, writing only a field that changes: copying the record and deleting
  // its keys made a second object per line and left the record in V8's dictionary mode.
  const redact = winston.format((info) => {
    const record = info as Record<string, unknown>;
    for (const k of Object.keys(record)) {
      const v = record[k];
      if (typeof v === 'string') {
        const safe = o.redactor.redact(v);
        if (safe !== v) record[k] = safe;
      } else if (v !== null && typeof v === 'object') {
        record[k] = o.redactor.redactValue(v);
      }
    }
    return info;
  });
  const human = winston.format.printf((info) => {
    const { level, message, timestamp, ...rest } = info as Record<string, unknown>;
    const extras = Object.entries(rest)
      .filter(([k]) => typeof k === 'string')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
      .join(' ');
    return `${String(timestamp)} ${String(level).padEnd(5)} ${String(message)}${extras ? ` ${extras}` : ''}`;
  });
  const format = winston.format.combine(redact(), winston.format.timestamp(), o.human ? human : json());
  const levels = winston.config.npm.levels;
  let threshold = levels[o.level ?? 'info']!;
  let closed = false;
  const write = (level: LogLevel) => (message: string, meta?: LogMeta) => {
    // Below the level nothing is formatted (or redacted): debug lines built on every refresh would
    // cost more than the refresh's signature.
    if (closed || levels[level]! > threshold) return;
    // The record winston's Logger would build: the metadata's own keys, then the level and message.
    const info: winston.Logform.TransformableInfo = Object.assign({}, meta, { level, message, [LEVEL]: level });
    if (meta?.['message']) info.message = `${message} ${String(meta['message'])}`;
    let line: string;
    try {
      const out = format.transform(info, format.options);
      if (!out || out === true) return;
      line = String((out as Record<symbol, unknown>)[MESSAGE]);
    } catch (e) {
      // A value no format can print (a BigInt in human mode): the line still says what happened.
      line = `${new Date().toISOString()} error a log line could not be formatted (${e instanceof Error ? e.name : 'error'}): ${o.redactor.redact(message)}`;
    }
    o.stream.write(`${line}\n`);
  };
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    setLevel(level: LogLevel) {
      threshold = levels[level]!;
    },
    close() {
      closed = true;
    },
  };
}
