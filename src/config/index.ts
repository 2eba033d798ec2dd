/** The schedule's public surface: load/parse, the resolved types, issues and errors, durations. */
export { loadSchedule } from './load.js';
export { parseSchedule } from './parse.js';
export {
  DEFAULT_RATE_LIMIT,
  DEFAULT_SESSION_SECONDS,
  DEFAULT_MARGIN_SECONDS,
  defaultRefreshPolicy,
  LOG_LEVELS,
  type LogLevel,
  type Origin,
  type RateLimit,
  type ResolvedProfile,
  type Schedule,
  type ScheduleDeps,
  type ScheduleOverrides,
} from './schedule.js';
export type { ServeListener, ServeSettings, ServeTls } from './serve.js';
export { checkScheduleInputs, type InputCheckDeps } from './inputs.js';
export { ConfigError, formatIssue, formatIssues, type ConfigIssue, type Position } from './issues.js';
export { KEY_SETS, PROFILE_KEYS, type ProfileKey } from './keys.js';
export { parseDuration, formatDuration } from '../time/duration.js';
export type { RefreshPolicy } from '../time/refresh.js';
