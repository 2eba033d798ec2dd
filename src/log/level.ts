/**
 * The log levels, most severe first: what `log_level:` and `--log-level` accept and what the
 * logger filters by. Apart from logger.ts so that the schedule reader can check a level without
 * loading winston (the library entry point loads the schedule's readers but never the logger).
 */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
