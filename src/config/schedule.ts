/**
 * The schedule: the YAML file read into a typed, fully resolved Schedule. Layering happens here and
 * only here — built-in defaults ← `defaults:` ← each profile ← the caller's overrides (CLI flags) —
 * and validation runs once over the result, collecting every issue with its path, line:column and
 * hint before throwing one ConfigError. Pure: text in, Schedule out (no filesystem, no clock).
 *
 * Layering rules worth knowing:
 * - `key: null` in a layer unsets what a lower layer set (`intermediates: null`);
 * - a layer that sets one of private_key_password_file/_env (or pkcs11_pin_file/_env) replaces the
 *   other one from lower layers; setting both in one layer is an error;
 * - `refresh:` is replaced as a whole, never merged key by key;
 * - a problem that comes from `defaults:` alone is reported once at `defaults.…`; one that involves
 *   a profile's own values is reported at `profiles.<name>.…`.
 */
import { classifyKeySource } from '../keys/sources/index.js';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DEFAULT_SECTION_HINT } from '../credentials-file/edit.js';
import { DEFAULT_SECTION } from '../credentials-file/parse.js';
import type { KeyMaterialOptions } from '../keys/options.js';
import { parseArn, validateArns } from '../rolesanywhere/arn.js';
import { formatDuration } from '../time/duration.js';
import { beforeExpiryPolicy, defaultRefreshPolicy, MIN_MARGIN_MS, MIN_USE_MS, type RefreshPolicy } from '../time/refresh.js';
import {
  isPkcs11Uri,
  readArn,
  readBoolean,
  readCron,
  readDuration,
  readEndpoint,
  readEnum,
  readEnvName,
  readExpiryWarnings,
  readKeySource,
  readListen,
  readNumber,
  readPath,
  readRegion,
  readRoleSessionName,
  readSessionDuration,
  readWatchInterval,
  readConnectTimeout,
  readTimeZone,
  describe,
  type FieldContext,
  type ListenAddress,
  type Reader,
} from './fields.js';
import { ConfigError, issue, type ConfigIssue, type Position } from './issues.js';
import { checkServeProfiles, readServe, type ServeSettings } from './serve.js';
import { EXTENSION_PREFIX, KEY_SETS, PROFILE_KEYS, unknownKeyHint, type KeySetName, type ProfileKey } from './keys.js';
import { childPath, jsToTree, yamlToTree, type RawEntry, type RawNode } from './tree.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface RateLimit {
  /** CreateSession calls per second for the whole agent. */
  perSecond: number;
  burst: number;
  /** CreateSession calls in flight at once. */
  concurrency: number;
}

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

/** Section names every reader of the credentials file handles alike. */
export const PROFILE_NAME_PATTERN = /^[A-Za-z0-9_.@+-]{1,64}$/;
const REQUIRED: ProfileKey[] = ['certificate', 'trust_anchor_arn', 'profile_arn', 'role_arn'];
const EXCLUSIVE: [ProfileKey, ProfileKey, string][] = [
  ['private_key_password_file', 'private_key_password_env', 'the key password comes from a file or from an environment variable'],
  ['pkcs11_pin_file', 'pkcs11_pin_env', 'the PIN comes from a file or from an environment variable'],
];
const PKCS11_ONLY: ProfileKey[] = ['pkcs11_lib', 'pkcs11_pin_file', 'pkcs11_pin_env', 'reuse_pin'];
const ARN_EXAMPLE: Partial<Record<ProfileKey, string>> = {
  trust_anchor_arn: 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/<uuid>',
  profile_arn: 'arn:aws:rolesanywhere:eu-west-1:111122223333:profile/<uuid>',
  role_arn: 'arn:aws:iam::111122223333:role/<name>',
  certificate: '/etc/pki/agent/host.pem',
};

type RefreshInput =
  | { kind: 'before_expiry'; marginSeconds: number; jitterSeconds?: number; marginPos?: Position }
  | { kind: 'cron'; expression: string; timeZone?: string; jitterSeconds?: number };

type Layer = 'builtin' | 'defaults' | 'profile' | 'override';
const RANK: Record<Layer, number> = { builtin: 0, defaults: 1, profile: 2, override: 3 };

interface Setting {
  state: 'set' | 'unset' | 'invalid';
  value?: unknown;
  layer: Layer;
  pos?: Position;
}
type ProfileLayer = Partial<Record<ProfileKey, Setting>>;

// ---------------------------------------------------------------------------------------------
// maps

/** Visits a map's known keys once each; reports non-maps, repeated keys and unknown keys. */
function walkMap(
  node: RawNode,
  path: string,
  set: KeySetName,
  ctx: FieldContext,
  visit: (entry: RawEntry, path: string) => void,
  options: { extensions?: boolean; what?: string } = {},
): boolean {
  if (node.kind !== 'map') {
    ctx.issues.push(issue(path, node.pos, `expected ${options.what ?? 'a map of settings'}, got ${describe(node)}`));
    return false;
  }
  const seen = new Map<string, Position | undefined>();
  for (const entry of node.entries) {
    const p = childPath(path, entry.key);
    if (options.extensions && entry.key.startsWith(EXTENSION_PREFIX)) continue;
    if (seen.has(entry.key)) {
      ctx.issues.push(issue(p, entry.keyPos, `"${entry.key}" is set twice${at(seen.get(entry.key))}`, 'keep one of them'));
      continue;
    }
    seen.set(entry.key, entry.keyPos);
    if (!(KEY_SETS[set] as readonly string[]).includes(entry.key)) {
      ctx.issues.push(issue(p, entry.keyPos, `unknown key "${entry.key}"`, unknownKeyHint(entry.key, set)));
      continue;
    }
    visit(entry, p);
  }
  return true;
}

function at(pos: Position | undefined): string {
  return pos ? ` (first at line ${pos.line}:${pos.column})` : '';
}

/** An explicit null (`key:` or `key: null`), not the remains of a value that failed to resolve. */
const isNull = (node: RawNode) => node.kind === 'scalar' && node.value === null && !node.failed;

// ---------------------------------------------------------------------------------------------
// profile layers

const readRefresh: Reader<RefreshInput> = (node, path, ctx) => {
  let margin: number | undefined;
  let marginPos: Position | undefined;
  let expression: string | undefined;
  let jitter: number | undefined;
  let timeZone: string | undefined;
  let broken = false;
  const present: string[] = [];
  const ok = walkMap(node, path, 'refresh', ctx, (entry, p) => {
    present.push(entry.key);
    const v = entry.value;
    let result: unknown;
    switch (entry.key) {
      case 'before_expiry':
        if (present.includes('cron')) {
          ctx.issues.push(issue(p, entry.keyPos, 'before_expiry and cron are exclusive', 'refresh a fixed time before expiry, or on a cron schedule, not both'));
          broken = true;
          return;
        }
        result = margin = readDuration({
          min: MIN_MARGIN_MS / 1000,
          max: 43200,
          what: 'range for a refresh margin',
          rangeHint: 'less than a minute before expiry leaves no time to retry a failed refresh',
        })(v, p, ctx);
        marginPos = v.pos;
        break;
      case 'cron':
        if (present.includes('before_expiry')) {
          ctx.issues.push(issue(p, entry.keyPos, 'before_expiry and cron are exclusive', 'refresh a fixed time before expiry, or on a cron schedule, not both'));
          broken = true;
          return;
        }
        result = expression = readCron(v, p, ctx);
        break;
      case 'jitter':
        result = jitter = readDuration({ min: 0, max: 43200, what: 'range for jitter' })(v, p, ctx);
        break;
      case 'time_zone':
        result = timeZone = readTimeZone(v, p, ctx);
        break;
    }
    if (result === undefined) broken = true;
  }, { what: 'a map with before_expiry: or cron:' });
  if (!ok || broken) return undefined;
  if (margin === undefined && expression === undefined) {
    ctx.issues.push(issue(path, node.pos, 'refresh needs before_expiry or cron', 'e.g. { before_expiry: 15m } or { cron: "*/20 * * * *" }'));
    return undefined;
  }
  if (expression === undefined) {
    if (timeZone !== undefined) {
      const tz = (node.kind === 'map' ? node.entries.find((e) => e.key === 'time_zone') : undefined)?.keyPos;
      ctx.issues.push(issue(childPath(path, 'time_zone'), tz, 'time_zone applies only to cron', 'remove it, or refresh on a cron schedule'));
      return undefined;
    }
    return { kind: 'before_expiry', marginSeconds: margin!, ...(jitter !== undefined && { jitterSeconds: jitter }), ...(marginPos && { marginPos }) };
  }
  return { kind: 'cron', expression, ...(timeZone !== undefined && { timeZone }), ...(jitter !== undefined && { jitterSeconds: jitter }) };
};

const PROFILE_READERS: Record<ProfileKey, Reader<unknown>> = {
  certificate: readKeySource,
  private_key: readKeySource,
  private_key_password_file: readPath,
  private_key_password_env: readEnvName,
  intermediates: readPath,
  pkcs11_lib: readPath,
  pkcs11_pin_file: readPath,
  pkcs11_pin_env: readEnvName,
  reuse_pin: readBoolean,
  trust_anchor_arn: readArn('trust_anchor_arn'),
  profile_arn: readArn('profile_arn'),
  role_arn: readArn('role_arn'),
  role_session_name: readRoleSessionName,
  region: readRegion,
  endpoint: readEndpoint,
  fips: readBoolean,
  ca_bundle: readPath,
  no_verify_ssl: readBoolean,
  with_proxy: readBoolean,
  connect_timeout: readConnectTimeout,
  session_duration: readSessionDuration,
  refresh: readRefresh,
  watch_interval: readWatchInterval,
};

/** The keys one layer sets; undefined when the layer is not a map at all. */
function readProfileLayer(node: RawNode, path: string, layer: Layer, ctx: FieldContext): ProfileLayer | undefined {
  const out: ProfileLayer = {};
  if (isNull(node)) return out;
  const isMap = walkMap(node, path, 'profile', ctx, (entry, p) => {
    const key = entry.key as ProfileKey;
    const pos = entry.value.pos ?? entry.keyPos;
    if (isNull(entry.value)) {
      out[key] = { state: 'unset', layer, pos };
      return;
    }
    const value = PROFILE_READERS[key](entry.value, p, ctx);
    out[key] = value === undefined ? { state: 'invalid', layer, pos } : { state: 'set', value, layer, pos };
  }, { what: 'a map of profile settings' });
  if (!isMap) return undefined;
  for (const [a, b, why] of EXCLUSIVE) {
    const sa = out[a];
    const sb = out[b];
    if (sa?.state === 'set' && sb?.state === 'set') {
      const second = comparePos(sa.pos, sb.pos) > 0 ? a : b;
      ctx.issues.push(issue(childPath(path, second), out[second]!.pos, `${a} and ${b} are exclusive`, `keep one: ${why}`));
      out[second] = { ...out[second]!, state: 'invalid' };
    }
  }
  return out;
}

function comparePos(a: Position | undefined, b: Position | undefined): number {
  if (!a || !b) return 0;
  return a.line - b.line || a.column - b.column;
}

function mergeLayers(layers: ProfileLayer[]): ProfileLayer {
  const out: ProfileLayer = {};
  for (const layer of layers) {
    for (const key of Object.keys(layer) as ProfileKey[]) {
      for (const [a, b] of EXCLUSIVE) {
        if (key === a && !(b in layer)) delete out[b];
        if (key === b && !(a in layer)) delete out[a];
      }
      out[key] = layer[key];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// one profile

interface ProfileScope {
  name: string;
  path: string;
  pos: Position | undefined;
  merged: ProfileLayer;
  ctx: FieldContext;
}

/**
 * Where a problem that involves several keys is reported: in the most specific layer that set any
 * of them — at the primary key if that layer set it (or nobody set it: a missing key), else at the
 * related key that layer did set, since that is the value that made the combination wrong.
 */
function locate(scope: ProfileScope, primary: ProfileKey, related: ProfileKey[]): { path: string; pos: Position | undefined } {
  const involved = [primary, ...related].filter((k) => scope.merged[k] !== undefined);
  const top = involved.reduce<Layer>((acc, k) => (RANK[scope.merged[k]!.layer] > RANK[acc] ? scope.merged[k]!.layer : acc), 'builtin');
  const prefix = top === 'defaults' ? 'defaults' : top === 'override' ? 'overrides' : scope.path;
  const p = scope.merged[primary];
  const firstAtTop = involved.find((k) => scope.merged[k]!.layer === top);
  const key = p === undefined || p.layer === top || firstAtTop === undefined ? primary : firstAtTop;
  const pos = scope.merged[key]?.layer === top ? scope.merged[key]!.pos : firstAtTop !== undefined ? scope.merged[firstAtTop]!.pos : undefined;
  return { path: childPath(prefix, key), pos: pos ?? (prefix === scope.path ? scope.pos : undefined) };
}

function report(scope: ProfileScope, primary: ProfileKey, related: ProfileKey[], message: string, hint?: string): void {
  const { path, pos } = locate(scope, primary, related);
  scope.ctx.issues.push(issue(path, pos, message, hint));
}

function resolveProfile(scope: ProfileScope): ResolvedProfile | undefined {
  const { merged } = scope;
  const get = <T>(k: ProfileKey): T | undefined => (merged[k]?.state === 'set' ? (merged[k]!.value as T) : undefined);
  const invalid = (k: ProfileKey) => merged[k]?.state === 'invalid';
  const before = scope.ctx.issues.length;

  for (const k of REQUIRED) {
    if (get(k) !== undefined || invalid(k)) continue;
    const unset = merged[k]?.state === 'unset';
    scope.ctx.issues.push(
      issue(
        childPath(scope.path, k),
        unset ? merged[k]!.pos : scope.pos,
        unset ? `${k} is required, but it is unset here with null` : `${k} is required and neither this profile nor defaults: sets it`,
        `add ${k}: ${ARN_EXAMPLE[k] ?? '…'}`,
      ),
    );
  }

  const certificate = get<string>('certificate');
  // A bundle or a token carries the key with the certificate; any other source needs private_key.
  const carriesOwnKey = (c: string) => ['pkcs11', 'pkcs12'].includes(classifyKeySource(c).kind);
  const privateKey = get<string>('private_key');
  const usesPkcs11 = isPkcs11Uri(certificate) || isPkcs11Uri(privateKey);
  if (certificate !== undefined && privateKey === undefined && !invalid('private_key') && !carriesOwnKey(certificate)) {
    report(
      scope,
      'private_key',
      ['certificate'],
      `private_key is required: the certificate ${certificate} is neither a PKCS#12 bundle (.p12/.pfx) nor a pkcs11: URI`,
      'set private_key: to the key file, or point certificate: at a PKCS#12 bundle that holds the key',
    );
  }
  if (!usesPkcs11 && !invalid('certificate') && !invalid('private_key')) {
    for (const k of PKCS11_ONLY) {
      const v = get(k);
      if (v === undefined || v === false) continue;
      report(scope, k, ['certificate', 'private_key'], `${k} applies only to pkcs11: URIs, and neither certificate nor private_key is one`, `remove ${k}, or write ${k}: null in a profile that uses key files`);
    }
  }
  const keyOnToken = isPkcs11Uri(privateKey) || (isPkcs11Uri(certificate) && privateKey === undefined);
  if (keyOnToken) {
    for (const k of ['private_key_password_file', 'private_key_password_env'] as const) {
      if (get(k) === undefined) continue;
      report(scope, k, ['private_key', 'certificate'], `${k} applies to encrypted PEM or PKCS#12 keys, not to a key on a PKCS#11 token`, 'give the token PIN with pkcs11_pin_file or pkcs11_pin_env');
    }
  }

  const ta = get<string>('trust_anchor_arn');
  const pa = get<string>('profile_arn');
  const ra = get<string>('role_arn');
  let region = get<string>('region');
  let partition = 'aws';
  if (ta !== undefined && pa !== undefined && ra !== undefined) {
    for (const i of validateArns(ta, pa, ra).issues) {
      report(scope, i.field, ['trust_anchor_arn'], i.message, i.field === 'profile_arn' ? 'take the profile and the trust anchor from the same Roles Anywhere region' : undefined);
    }
  }
  const anchor = ta !== undefined ? parseArn(ta) : undefined;
  if (anchor) {
    partition = anchor.partition;
    if (region !== undefined && region !== anchor.region) {
      report(scope, 'region', ['trust_anchor_arn'], `region ${region} differs from the trust anchor's region ${anchor.region}`, "CreateSession must go to the trust anchor's region: remove region: or correct it");
    }
    region ??= anchor.region;
  }

  const fips = get<boolean>('fips') ?? false;
  const endpoint = get<string>('endpoint');
  if (fips && endpoint !== undefined) {
    report(scope, 'fips', ['endpoint'], 'fips: true has no effect when endpoint: is set', 'remove one: endpoint: names the exact host to call');
  }

  const duration = get<number>('session_duration') ?? DEFAULT_SESSION_SECONDS;
  const refreshInput = get<RefreshInput>('refresh');
  let refresh: RefreshPolicy;
  if (refreshInput === undefined) {
    refresh = defaultRefreshPolicy(duration);
  } else if (refreshInput.kind === 'before_expiry') {
    refresh = beforeExpiryPolicy(refreshInput.marginSeconds, refreshInput.jitterSeconds);
    const jitter = refresh.kind === 'before_expiry' ? refresh.jitterSeconds : 0;
    if (!invalid('session_duration') && refreshInput.marginSeconds + jitter > duration - MIN_USE_SECONDS) {
      const loc = locate(scope, 'refresh', ['session_duration']);
      const atMargin = loc.path.endsWith('.refresh') && refreshInput.marginPos;
      const withJitter = jitter > 0 ? ` plus ${formatDuration(jitter)} of jitter` : '';
      scope.ctx.issues.push(
        issue(
          atMargin ? `${loc.path}.before_expiry` : loc.path,
          atMargin ? refreshInput.marginPos : loc.pos,
          `a refresh ${formatDuration(refreshInput.marginSeconds)}${withJitter} before expiry leaves less than ${formatDuration(MIN_USE_SECONDS)} of a ${formatDuration(duration)} session`,
          `make before_expiry plus jitter at most ${formatDuration(duration - MIN_USE_SECONDS)}, or lengthen session_duration`,
        ),
      );
    }
  } else {
    refresh = { kind: 'cron', expression: refreshInput.expression, jitterSeconds: refreshInput.jitterSeconds ?? 0, ...(refreshInput.timeZone !== undefined && { timeZone: refreshInput.timeZone }) };
  }

  if (scope.ctx.issues.length > before || PROFILE_KEYS.some(invalid)) return undefined;

  const opt = <K extends string, T>(key: K, value: T | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, T>));
  const pwFile = get<string>('private_key_password_file');
  const pwEnv = get<string>('private_key_password_env');
  const pinFile = get<string>('pkcs11_pin_file');
  const pinEnv = get<string>('pkcs11_pin_env');
  const reusePin = get<boolean>('reuse_pin') ?? false;
  const keyMaterial: KeyMaterialOptions = {
    certificate: certificate!,
    ...opt('privateKey', privateKey),
    ...opt('intermediates', get<string>('intermediates')),
    ...opt('password', pwFile !== undefined ? { file: pwFile } : pwEnv !== undefined ? { env: pwEnv } : undefined),
    ...(usesPkcs11 && {
      ...opt('pkcs11Lib', get<string>('pkcs11_lib')),
      ...opt('pin', pinFile !== undefined ? { file: pinFile } : pinEnv !== undefined ? { env: pinEnv } : undefined),
      ...(reusePin && { reusePin }),
    }),
  };
  return {
    name: scope.name,
    ...opt('position', scope.pos),
    certificate: certificate!,
    ...opt('privateKey', privateKey),
    ...opt('privateKeyPasswordFile', pwFile),
    ...opt('privateKeyPasswordEnv', pwEnv),
    ...opt('intermediates', get<string>('intermediates')),
    ...opt('pkcs11Lib', get<string>('pkcs11_lib')),
    ...opt('pkcs11PinFile', pinFile),
    ...opt('pkcs11PinEnv', pinEnv),
    reusePin,
    trustAnchorArn: ta!,
    profileArn: pa!,
    roleArn: ra!,
    ...opt('roleSessionName', get<string>('role_session_name')),
    region: region!,
    partition,
    ...opt('endpoint', endpoint),
    fips,
    ...opt('caBundle', get<string>('ca_bundle')),
    noVerifySsl: get<boolean>('no_verify_ssl') ?? false,
    withProxy: get<boolean>('with_proxy') ?? false,
    ...opt('connectTimeoutSeconds', get<number>('connect_timeout')),
    sessionDurationSeconds: duration,
    refresh,
    watchIntervalSeconds: get<number>('watch_interval') ?? DEFAULT_WATCH_INTERVAL_SECONDS,
    keyMaterial,
    origins: originsOf(scope),
  };
}

function originsOf(scope: ProfileScope): Partial<Record<ProfileKey, Origin>> {
  const out: Partial<Record<ProfileKey, Origin>> = {};
  for (const [key, s] of Object.entries(scope.merged) as [ProfileKey, Setting][]) {
    if (s.state !== 'set') continue;
    const prefix = s.layer === 'defaults' ? 'defaults' : s.layer === 'override' ? 'overrides' : scope.path;
    out[key] = { path: childPath(prefix, key), ...(s.pos && { line: s.pos.line, column: s.pos.column }) };
  }
  return out;
}

/**
 * One profile from settings given as a plain object (the library's options, keys already in the
 * schedule's snake_case): the same readers, layering rules and cross-checks as a profile written in
 * the file, so a value the schedule refuses is refused here with the same message. Issues are
 * reported at the bare key (`role_arn`), with no line. Throws ConfigError naming `sourceName`.
 */
export function resolveProfileSettings(
  name: string,
  settings: Readonly<Record<string, unknown>>,
  deps: { env: Readonly<Record<string, string | undefined>>; home: string; baseDir?: string; sourceName: string },
): ResolvedProfile {
  const issues: ConfigIssue[] = [];
  const ctx: FieldContext = { issues, home: deps.home, ...(deps.baseDir !== undefined ? { baseDir: deps.baseDir } : {}) };
  const layer = readProfileLayer(jsToTree(settings), '', 'profile', ctx);
  const resolved = layer && resolveProfile({ name, path: '', pos: undefined, merged: mergeLayers([layer]), ctx });
  if (issues.length > 0 || !resolved) throw new ConfigError(deps.sourceName, issues);
  return resolved;
}

/** A user name (POSIX: letters, digits, _ . -, not starting with a digit or -) or a numeric uid. */
function readOwner(node: RawNode, path: string, ctx: FieldContext): string | number | undefined {
  if (node.kind === 'scalar' && typeof node.value === 'number' && Number.isInteger(node.value) && node.value >= 0 && node.value < 2 ** 32) return node.value;
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    if (/^\d+$/.test(node.value) && Number(node.value) < 2 ** 32) return Number(node.value);
    if (/^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/.test(node.value)) return node.value;
  }
  ctx.issues.push(
    issue(path, node.pos, `expected a user name or a numeric uid, got ${describe(node)}`, "the user whose credentials file root writes, e.g. credentials_file_owner: app (the file's owner is checked against it)"),
  );
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// the whole file

/** Parses and validates schedule text. Throws ConfigError listing every issue. */
export function parseSchedule(text: string, sourceName: string, deps: ScheduleDeps): Schedule {
  const issues: ConfigIssue[] = [];
  const ctx: FieldContext = { issues, home: deps.home, baseDir: deps.baseDir };
  const overrideCtx: FieldContext = { issues, home: deps.home };
  const fail = (): never => {
    throw new ConfigError(sourceName, issues);
  };

  const root = yamlToTree(text, deps.env, issues);
  if (!root) return fail();
  if (isNull(root)) {
    issues.push(issue('', { line: 1, column: 1 }, 'the schedule is empty', 'it needs at least a profiles: map; see config/agent.example.yaml'));
    return fail();
  }

  let credentialsFile: string | undefined;
  let credentialsFileOwner: string | number | undefined;
  let credentialsDirShared = false;
  let logLevel: LogLevel = 'info';
  const rateLimit: RateLimit = { ...DEFAULT_RATE_LIMIT };
  let http: Schedule['http'];
  let serve: ServeSettings | undefined;
  let expiryWarnings = DEFAULT_CERTIFICATE_EXPIRY_WARNINGS;
  let defaultsLayer: ProfileLayer = {};
  let profilesNode: RawEntry | undefined;

  const rootIsMap = walkMap(root, '', 'top', ctx, (entry, p) => {
    const v = entry.value;
    switch (entry.key) {
      case 'credentials_file':
        if (!isNull(v)) credentialsFile = readPath(v, p, ctx);
        break;
      case 'credentials_file_owner':
        if (!isNull(v)) credentialsFileOwner = readOwner(v, p, ctx);
        break;
      case 'credentials_dir_shared':
        if (!isNull(v)) credentialsDirShared = readBoolean(v, p, ctx) ?? false;
        break;
      case 'log_level':
        if (!isNull(v)) logLevel = readEnum(LOG_LEVELS)(v, p, ctx) ?? logLevel;
        break;
      case 'rate_limit':
        if (isNull(v)) break;
        walkMap(v, p, 'rate_limit', ctx, (e, q) => {
          if (e.key === 'per_second') rateLimit.perSecond = readNumber({ min: 0, exclusiveMin: true, max: 1000, integer: false })(e.value, q, ctx) ?? rateLimit.perSecond;
          if (e.key === 'burst') rateLimit.burst = readNumber({ min: 1, max: 1000, integer: true })(e.value, q, ctx) ?? rateLimit.burst;
          if (e.key === 'concurrency') rateLimit.concurrency = readNumber({ min: 1, max: 64, integer: true })(e.value, q, ctx) ?? rateLimit.concurrency;
        });
        break;
      case 'http':
        if (isNull(v)) break;
        walkMap(v, p, 'http', ctx, (e, q) => {
          const listen = readListen(e.value, q, ctx);
          if (listen && 'socket' in listen) http = { listen: listen.socket, ...listen };
          else if (listen) http = { listen: `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`, ...listen };
        });
        if (v.kind === 'map' && !v.entries.some((e) => e.key === 'listen')) issues.push(issue(childPath(p, 'listen'), v.pos, 'http needs listen:', 'e.g. listen: "127.0.0.1:9464", or remove http: to keep the listener off'));
        break;
      case 'serve':
        if (!isNull(v)) serve = readServe(v, p, ctx, walkMap);
        break;
      case 'certificate_expiry_warnings':
        if (!isNull(v)) expiryWarnings = readExpiryWarnings(v, p, ctx) ?? expiryWarnings;
        break;
      case 'defaults':
        defaultsLayer = readProfileLayer(v, 'defaults', 'defaults', ctx) ?? {};
        break;
      case 'profiles':
        profilesNode = entry;
        break;
    }
  }, { extensions: true, what: 'a map with profiles: and optional settings' });

  const ov = deps.overrides ?? {};
  const overrideLayer = (ov.profile && readProfileLayer(jsToTree(ov.profile), 'overrides', 'override', overrideCtx)) || {};
  if (ov.credentialsFile !== undefined) credentialsFile = readPath(jsToTree(ov.credentialsFile), 'overrides.credentials_file', overrideCtx) ?? credentialsFile;
  if (ov.logLevel !== undefined) logLevel = readEnum(LOG_LEVELS)(jsToTree(ov.logLevel), 'overrides.log_level', overrideCtx) ?? logLevel;

  const profiles: ResolvedProfile[] = [];
  const names: string[] = [];
  if (!rootIsMap) {
    // nothing more to say about a file that is not a map
  } else if (!profilesNode || isNull(profilesNode.value)) {
    issues.push(issue('profiles', profilesNode?.keyPos ?? root.pos, 'at least one profile is required', 'add profiles: with a map of credentials-file section names, e.g. profiles: { default: { role_arn: … } }'));
  } else if (profilesNode.value.kind !== 'map') {
    issues.push(issue('profiles', profilesNode.value.pos, `expected a map of profile names, got ${describe(profilesNode.value)}`, 'each key is the section name written in the credentials file'));
  } else {
    const seen = new Map<string, Position | undefined>();
    if (profilesNode.value.entries.length === 0) issues.push(issue('profiles', profilesNode.value.pos, 'at least one profile is required'));
    for (const entry of profilesNode.value.entries) {
      const path = childPath('profiles', entry.key);
      if (seen.has(entry.key)) {
        issues.push(
          issue(path, entry.keyPos, `the profile "${entry.key}" is defined twice${at(seen.get(entry.key))}: both would write the section [${entry.key}] of the credentials file`, 'rename one, or merge the two entries'),
        );
        continue;
      }
      seen.set(entry.key, entry.keyPos);
      names.push(entry.key);
      if (!PROFILE_NAME_PATTERN.test(entry.key)) {
        issues.push(issue(path, entry.keyPos, `"${entry.key}" cannot be a section name in the credentials file`, '1 to 64 characters of letters, digits and _ . @ + -'));
        continue;
      }
      if (entry.key === DEFAULT_SECTION) {
        issues.push(issue(path, entry.keyPos, '"DEFAULT" cannot be a profile: botocore and the AWS CLI read [DEFAULT] as defaults for every other profile, never as a profile of its own', DEFAULT_SECTION_HINT));
        continue;
      }
      const own = readProfileLayer(entry.value, path, 'profile', ctx);
      if (!own) continue;
      const merged = mergeLayers([defaultsLayer, own, overrideLayer]);
      const resolved = resolveProfile({ name: entry.key, path, pos: entry.keyPos, merged, ctx });
      if (resolved) profiles.push(resolved);
    }
  }

  checkServeProfiles(serve, names, ctx);
  let selected = profiles;
  if (ov.onlyProfiles !== undefined) {
    for (const n of ov.onlyProfiles) {
      if (!names.includes(n)) issues.push(issue('overrides.only_profiles', undefined, `no profile named "${n}" in the schedule`, names.length ? `profiles: ${names.join(', ')}` : undefined));
    }
    selected = profiles.filter((p) => ov.onlyProfiles!.includes(p.name));
  }

  if (issues.length > 0) return fail();

  const envFile = deps.env.AWS_SHARED_CREDENTIALS_FILE;
  let resolvedFile = credentialsFile;
  if (resolvedFile === undefined && envFile) {
    resolvedFile = readPath(jsToTree(envFile), 'AWS_SHARED_CREDENTIALS_FILE', overrideCtx);
    if (issues.length > 0) return fail();
  }
  return {
    credentialsFile: resolvedFile ?? join(deps.home, '.aws', 'credentials'),
    ...(credentialsFileOwner !== undefined && { credentialsFileOwner }),
    credentialsDirShared,
    profiles: selected,
    rateLimit,
    logLevel,
    ...(http && { http }),
    ...(serve && { serve }),
    certificateExpiryWarnings: expiryWarnings,
    source: { path: sourceName, hash: createHash('sha256').update(text).digest('hex') },
  };
}
