/**
 * The schedule's shapes and constants: what a resolved Schedule and ResolvedProfile hold, the
 * defaults, and the profile-name rule. The file is read by parse.ts; each profile's settings are
 * declared in src/config/profile/catalogue.ts and resolved by src/config/profile/resolve.ts. Light on purpose
 * (types and constants only): the command line and the library import it without the YAML parser.
 */
import type { KeyMaterialOptions } from '../keys/options.js';
import { MIN_USE_MS, type RefreshPolicy } from '../time/refresh.js';
import type { ListenAddress } from './fields.js';
import type { Position } from './issues.js';
import type { ServeSettings } from './serve.js';
import type { ProfileKey } from './profile/catalogue.js';

import { LOG_LEVELS, type LogLevel } from '../log/level.js';
import type { RateLimit } from '../time/rate-limit.js';
export { LOG_LEVELS, type LogLevel, type RateLimit };

export interface ResolvedProfile {
  /** The section written in the credentials file. */
  name: string;
  /** Where the profile's key is in the schedule, for messages (absent only for synthetic input). */
  position?: Position;
  certificate: string;
  privateKey?: string;
  privateKeyPasswordFile?: string;
  privateKeyPasswordEnv?: string;
  intermediates?: string;
  pkcs11Lib?: string;
  pkcs11PinFile?: string;
  pkcs11PinEnv?: string;
  reusePin: boolean;
  trustAnchorArn: string;
  profileArn: string;
  roleArn: string;
  roleSessionName?: string;
  /** Given, or the trust anchor's. */
  region: string;
  /** The trust anchor's partition (aws, aws-cn, aws-us-gov…), for endpoint resolution. */
  partition: string;
  endpoint?: string;
  fips: boolean;
  caBundle?: string;
  noVerifySsl: boolean;
  withProxy: boolean;
  /** Connect timeout of each request (TCP, TLS, and a proxy's CONNECT), when set. */
  connectTimeoutSeconds?: number;
  sessionDurationSeconds: number;
  refresh: RefreshPolicy;
  /** `watch_interval`: how often the key files are checked without events; 0 = never. */
  watchIntervalSeconds: number;
  /** What the signer is built from. */
  keyMaterial: KeyMaterialOptions;
  /** Where each configured key was written (its layer's path and line), for later messages. */
  origins: Partial<Record<ProfileKey, Origin>>;
}

export interface Origin {
  /** `defaults.certificate`, `profiles.web.certificate` or `overrides.certificate`. */
  path: string;
  line?: number;
  column?: number;
}

export interface Schedule {
  credentialsFile: string;
  /** `credentials_file_owner:` — the user (name or uid) whose file root writes (credentials-file/trust.ts). */
  credentialsFileOwner?: string | number;
  /** `credentials_dir_shared:` — the credentials file's directory is writable by others on purpose. */
  credentialsDirShared: boolean;
  profiles: ResolvedProfile[];
  rateLimit: RateLimit;
  logLevel: LogLevel;
  /** Observability listener; absent means off. `listen` is the address as written (normalised). */
  http?: { listen: string } & ListenAddress;
  /** Log a warning when a certificate has less than this left (seconds, largest first). */
  certificateExpiryWarnings: number[];
  /** The ECS-style and IMDSv2-style credential endpoints (`run` only); absent means off. */
  serve?: ServeSettings;
  source: { path: string; hash: string };
}

/**
 * What the command line may override. Profile keys are the schedule's own snake_case keys with raw
 * values — flag text ("true", "3600", "1h") or typed values — validated as if written in the file,
 * and applied on top of every profile. Paths here are taken as given (the CLI resolves them against its working
 * directory); the file's paths are relative to the file.
 */
export interface ScheduleOverrides {
  credentialsFile?: string;
  logLevel?: string;
  profile?: Partial<Record<ProfileKey, unknown>>;
  /** Keep only these profiles (`once --profile a --profile b`); an unknown name is an issue. */
  onlyProfiles?: string[];
}

export interface ScheduleDeps {
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  overrides?: ScheduleOverrides;
  /** Directory that relative paths in the file are resolved against (loadSchedule: the file's). */
  baseDir?: string;
}

/** 30, 7 and 1 days: the thresholds AWS's own DaysToExpiry alarms suggest. */
export const DEFAULT_CERTIFICATE_EXPIRY_WARNINGS = [30 * 86_400, 7 * 86_400, 86_400];
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 8, burst: 8, concurrency: 4 };
export const DEFAULT_SESSION_SECONDS = 3600;
/** `watch_interval` when not set: a rotation on a file system without events is seen within a minute. */
export const DEFAULT_WATCH_INTERVAL_SECONDS = 60;
// The refresh rules live with the policy (src/time/refresh.ts); re-exported for the schedule's users.
export { DEFAULT_JITTER_FRACTION, DEFAULT_MARGIN_SECONDS, defaultRefreshPolicy } from '../time/refresh.js';
/** A refresh must leave at least this much use of a fresh credential. */
export const MIN_USE_SECONDS = MIN_USE_MS / 1000;

// PROFILE_NAME_PATTERN is not re-exported here: that pulled the credentials-file parser into every
// `credential-process` call (config/profile/resolve.ts imports this file); take it from
// credentials-file/profile-name.ts.
