/**
 * The one logger: winston writing to stderr, human text on a terminal and JSON lines otherwise,
 * every record passed through the Redactor first. Library code takes the small `Log` interface so
 * tests can capture lines without winston.
 */
import winston from 'winston';
import type { LogLevel } from './level.js';
import { Redactor } from './redact.js';

export type { LogLevel } from './level.js';
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
  const logger = winston.createLogger({
    level: o.level ?? 'info',
    format: winston.format.combine(
      redact(),
      winston.format.timestamp(),
      o.human ? human : winston.format.json(),
    ),
    transports: [new winston.transports.Stream({ stream: o.stream })],
  });
  const write = (level: LogLevel) => (message: string, meta?: LogMeta) => {
    // winston runs every format (redaction included) before its transports drop a record below
    // the level: debug lines built on every refresh would cost more than the refresh's signature.
    if (!logger.isLevelEnabled(level)) return;
    logger.log(level, message, meta ?? {});
  };
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    setLevel(level: LogLevel) {
      logger.level = level;
    },
    close() {
      logger.close();
    },
  };
}
