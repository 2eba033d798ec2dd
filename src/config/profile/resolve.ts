/**
 * One profile resolved: its layers (below) merged and checked together — required keys, the
 * key sources' own settings, ARNs against each other, region, fips and endpoint, refresh against the
 * session — into a ResolvedProfile. The one path every caller takes: the schedule (config/parse.ts),
 * the command line (profile/flags.ts) and the library (resolveProfileSettings).
 */
import { classifyKeySource, isPkcs11Uri, settingProblem, sourceSettings } from '../../keys/sources/index.js';
import type { KeyMaterialOptions } from '../../keys/options.js';
import { parseArn, validateArns } from '../../rolesanywhere/arn.js';
import { formatDuration } from '../../time/duration.js';
import { beforeExpiryPolicy, type RefreshPolicy } from '../../time/refresh.js';
import { isNull, walkMap, type FieldContext } from '../fields.js';
import { ConfigError, issue, type ConfigIssue, type Position } from '../issues.js';
import { childPath, jsToTree, type RawNode } from '../node.js';
import {
  DEFAULT_SESSION_SECONDS,
  DEFAULT_WATCH_INTERVAL_SECONDS,
  defaultRefreshPolicy,
  MIN_USE_SECONDS,
  type Origin,
  type ResolvedProfile,
} from '../schedule.js';
import { ENV_SETTINGS, PROFILE_KEYS, REQUIRED_KEYS, type ProfileKey } from './catalogue.js';
import { PROFILE_READERS, type RefreshInput } from './readers.js';

const ARN_EXAMPLE: Partial<Record<ProfileKey, string>> = {
  trust_anchor_arn: 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/<uuid>',
  profile_arn: 'arn:aws:rolesanywhere:eu-west-1:111122223333:profile/<uuid>',
  role_arn: 'arn:aws:iam::111122223333:role/<name>',
  certificate: '/etc/pki/agent/host.pem',
};

// ---------------------------------------------------------------------------------------------
// layers
/*
 * Profile layers: what one layer (built-in, an environment variable, `defaults:`, a profile, the
 * command line) sets, read through the catalogue's readers, and the merge of layers, highest last.
 *
 * - `key: null` in a layer unsets what a lower layer set (`intermediates: null`);
 * - a layer that sets one of private_key_password_file/_env (or pkcs11_pin_file/_env) replaces the
 *   other one from lower layers; setting both in one layer is an error;
 * - an environment variable of the catalogue (AWS_CA_BUNDLE) counts only when no layer above sets its key.
 */

export const EXCLUSIVE: [ProfileKey, ProfileKey, string][] = [
  ['private_key_password_file', 'private_key_password_env', 'the key password comes from a file or from an environment variable'],
  ['pkcs11_pin_file', 'pkcs11_pin_env', 'the PIN comes from a file or from an environment variable'],
];

export type Layer = 'builtin' | 'env' | 'defaults' | 'profile' | 'override';
export const RANK: Record<Layer, number> = { builtin: 0, env: 1, defaults: 2, profile: 3, override: 4 };

export interface Setting {
  state: 'set' | 'unset' | 'invalid';
  value?: unknown;
  layer: Layer;
  pos?: Position;
  /** The environment variable an `env` layer's value came from. */
  variable?: string;
}
export type ProfileLayer = Partial<Record<ProfileKey, Setting>>;

/** The keys one layer sets; undefined when the layer is not a map at all. */
export function readProfileLayer(node: RawNode, path: string, layer: Layer, ctx: FieldContext): ProfileLayer | undefined {
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

export function mergeLayers(layers: ProfileLayer[]): ProfileLayer {
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

/**
 * The catalogue's environment variables as the lowest layer but the built-in one. A relative path in
 * one is taken as given (the caller's working directory), as on the command line.
 */
export function readEnvLayer(env: Readonly<Record<string, string | undefined>>, ctx: FieldContext): ProfileLayer {
  const out: ProfileLayer = {};
  const envCtx: FieldContext = { issues: ctx.issues, home: ctx.home };
  for (const { key, name } of ENV_SETTINGS) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    const value = PROFILE_READERS[key](jsToTree(text), name, envCtx);
    out[key] = value === undefined ? { state: 'invalid', layer: 'env', variable: name } : { state: 'set', value, layer: 'env', variable: name };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// one profile

export interface ProfileScope {
  name: string;
  path: string;
  pos: Position | undefined;
  merged: ProfileLayer;
  ctx: FieldContext;
  /**
   * The official helper's command line: a region other than the trust anchor's is sent as asked (the
   * service refuses it, as it refuses the helper's), instead of being refused here.
   */
  helperCompatible?: boolean;
}

/** Where a layer's keys are reported: `defaults.…`, `overrides.…`, the profile's own path, or the variable. */
function pathOf(scope: ProfileScope, s: Setting | undefined, key: ProfileKey, layer: Layer): string {
  if (layer === 'env' && s?.variable) return s.variable;
  const prefix = layer === 'defaults' ? 'defaults' : layer === 'override' ? 'overrides' : scope.path;
  return childPath(prefix, key);
}

/**
 * Where a problem that involves several keys is reported: in the most specific layer that set any
 * of them — at the primary key if that layer set it (or nobody set it: a missing key), else at the
 * related key that layer did set, since that is the value that made the combination wrong.
 */
function locate(scope: ProfileScope, primary: ProfileKey, related: ProfileKey[]): { path: string; pos: Position | undefined } {
  const involved = [primary, ...related].filter((k) => scope.merged[k] !== undefined);
  const top = involved.reduce<Layer>((acc, k) => (RANK[scope.merged[k]!.layer] > RANK[acc] ? scope.merged[k]!.layer : acc), 'builtin');
  const p = scope.merged[primary];
  const firstAtTop = involved.find((k) => scope.merged[k]!.layer === top);
  const key = p === undefined || p.layer === top || firstAtTop === undefined ? primary : firstAtTop;
  const pos = scope.merged[key]?.layer === top ? scope.merged[key]!.pos : firstAtTop !== undefined ? scope.merged[firstAtTop]!.pos : undefined;
  const atProfile = top !== 'defaults' && top !== 'override' && top !== 'env';
  return { path: pathOf(scope, scope.merged[key], key, top), pos: pos ?? (atProfile ? scope.pos : undefined) };
}

function report(scope: ProfileScope, primary: ProfileKey, related: ProfileKey[], message: string, hint?: string): void {
  const { path, pos } = locate(scope, primary, related);
  scope.ctx.issues.push(issue(path, pos, message, hint));
}

export function resolveProfile(scope: ProfileScope): ResolvedProfile | undefined {
  const { merged } = scope;
  const get = <T>(k: ProfileKey): T | undefined => (merged[k]?.state === 'set' ? (merged[k]!.value as T) : undefined);
  const invalid = (k: ProfileKey) => merged[k]?.state === 'invalid';
  const before = scope.ctx.issues.length;

  for (const k of REQUIRED_KEYS) {
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
  // Settings that belong to some key sources only (pkcs11_lib, private_key_password_file…): each
  // source declares its own in src/keys/sources/, and one given beside another source is refused.
  if (certificate !== undefined && !invalid('certificate') && !invalid('private_key')) {
    for (const k of sourceSettings() as ReadonlySet<ProfileKey>) {
      const v = get(k);
      if (v === undefined || v === false) continue;
      const problem = settingProblem(k, { certificate, ...(privateKey !== undefined && { privateKey }) });
      if (problem) report(scope, k, ['certificate', 'private_key'], problem.message, problem.hint);
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
    if (region !== undefined && region !== anchor.region && !scope.helperCompatible) {
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
    // Unset means true: HTTPS_PROXY/NO_PROXY were always honoured, so nobody's proxy silently stops.
    withProxy: get<boolean>('with_proxy') ?? true,
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
    out[key] = { path: pathOf(scope, s, key, s.layer), ...(s.pos && { line: s.pos.line, column: s.pos.column }) };
  }
  return out;
}

export interface ProfileSettingsDeps {
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  baseDir?: string;
  sourceName: string;
  /** The command line may carry a pkcs11: URI with its pin-value (the official helper's form); a schedule may not. */
  secretsAllowed?: boolean;
  /** See ProfileScope.helperCompatible. */
  helperCompatible?: boolean;
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
  deps: ProfileSettingsDeps,
): ResolvedProfile {
  const issues: ConfigIssue[] = [];
  const ctx: FieldContext = { issues, home: deps.home, ...(deps.baseDir !== undefined ? { baseDir: deps.baseDir } : {}), ...(deps.secretsAllowed && { secretsAllowed: true }) };
  const layer = readProfileLayer(jsToTree(settings), '', 'profile', ctx);
  const merged = layer && mergeLayers([readEnvLayer(deps.env, ctx), layer]);
  const resolved = merged && resolveProfile({ name, path: '', pos: undefined, merged, ctx, ...(deps.helperCompatible && { helperCompatible: true }) });
  if (issues.length > 0 || !resolved) throw new ConfigError(deps.sourceName, issues);
  return resolved;
}
