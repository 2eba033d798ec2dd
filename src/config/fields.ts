/**
 * Readers for single schedule values: each takes a tree node and its path, returns the typed value,
 * or records an issue (with the value, what was expected and a hint) and returns undefined. No
 * filesystem, no clock: whether a file exists is checked elsewhere (checkScheduleFiles).
 */
import { displayKeySource, isNonFileSource, isPkcs11Uri } from '../keys/sources/index.js';

export { isPkcs11Uri };
import { createRequire } from 'node:module';
import { parseArn, validateArns, validRoleSessionName, type ArnField, MAX_DURATION_SECONDS, MIN_DURATION_SECONDS } from '../rolesanywhere/arn.js';
import { endpointUrlProblem } from '../rolesanywhere/endpoint.js';
import { formatDuration, parseDuration } from '../time/duration.js';
import { issue, type ConfigIssue, type Position } from './issues.js';
import { expandPath } from './paths.js';
import { childPath, type RawEntry, type RawNode, type RawScalar } from './node.js';
import { EXTENSION_PREFIX, KEY_SETS, unknownKeyHint, type KeySetName } from './keys.js';
import { isTpmHandle, showTpmHandle, TPM_ROUTE_HINT } from '../keys/tpm.js';

export interface FieldContext {
  issues: ConfigIssue[];
  home: string;
  baseDir?: string | undefined;
  /** The command line, not a schedule: a pkcs11: URI may carry its pin-value (the official helper's form). */
  secretsAllowed?: boolean;
}

export type Reader<T> = (node: RawNode, path: string, ctx: FieldContext) => T | undefined;

export function describe(node: RawNode): string {
  if (node.kind === 'map') return 'a map';
  if (node.kind === 'seq') return 'a list';
  const v = node.value;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return `the number ${v}`;
  if (v === null) return 'nothing';
  return String(v);
}

function fail(ctx: FieldContext, path: string, node: RawNode, message: string, hint?: string): undefined {
  // a value whose ${…} could not be replaced was reported already; its remains prove nothing
  if (!(node.kind === 'scalar' && node.failed)) ctx.issues.push(issue(path, node.pos, message, hint));
  return undefined;
}

export const readString: Reader<string> = (node, path, ctx) => {
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    if (node.value.trim() === '') return fail(ctx, path, node, 'the value is empty', 'give a value, or write null to unset an inherited one');
    return node.value;
  }
  const quote = node.kind === 'scalar' && (typeof node.value === 'number' || typeof node.value === 'boolean') ? `: quote it ("${String(node.value)}")` : '';
  return fail(ctx, path, node, `expected text, got ${describe(node)}`, quote ? `YAML read it as a ${typeof (node as RawScalar).value}${quote}` : undefined);
};

export const readBoolean: Reader<boolean> = (node, path, ctx) => {
  if (node.kind === 'scalar') {
    if (typeof node.value === 'boolean') return node.value;
    if (node.coercible && typeof node.value === 'string' && /^(true|false)$/.test(node.value)) return node.value === 'true';
  }
  const word = node.kind === 'scalar' && typeof node.value === 'string' && /^(y|yes|n|no|on|off)$/i.test(node.value);
  return fail(ctx, path, node, `expected true or false, got ${describe(node)}`, word ? 'YAML 1.2 reads yes/no/on/off as text: write true or false' : undefined);
};

function readNumberish(node: RawNode): number | undefined {
  if (node.kind !== 'scalar') return undefined;
  if (typeof node.value === 'number') return node.value;
  if (node.coercible && typeof node.value === 'string' && /^\d+(\.\d+)?$/.test(node.value)) return Number(node.value);
  return undefined;
}

export function readNumber(opts: { min: number; max: number; integer: boolean; exclusiveMin?: boolean }): Reader<number> {
  return (node, path, ctx) => {
    const n = readNumberish(node);
    const range = `${opts.exclusiveMin ? `more than ${opts.min}` : `${opts.min}`} to ${opts.max}`;
    const what = opts.integer ? 'a whole number' : 'a number';
    if (n === undefined || !Number.isFinite(n)) return fail(ctx, path, node, `expected ${what} (${range}), got ${describe(node)}`);
    if (opts.integer && !Number.isInteger(n)) return fail(ctx, path, node, `expected ${what} (${range}), got ${n}`);
    if (n < opts.min || (opts.exclusiveMin && n === opts.min) || n > opts.max) return fail(ctx, path, node, `${n} is out of range: expected ${range}`);
    return n;
  };
}

export function readEnum<T extends string>(values: readonly T[]): Reader<T> {
  return (node, path, ctx) => {
    if (node.kind === 'scalar' && typeof node.value === 'string' && (values as readonly string[]).includes(node.value)) return node.value as T;
    return fail(ctx, path, node, `expected one of ${values.join(', ')}, got ${describe(node)}`);
  };
}

const DURATION_HINT = 'write seconds (3600) or a duration such as 15m, 1h, 1h30m';

/** A duration in whole seconds within [min, max]. */
export function readDuration(opts: { min: number; max: number; what: string; rangeHint?: string }): Reader<number> {
  return (node, path, ctx) => {
    const raw = node.kind === 'scalar' && (typeof node.value === 'string' || typeof node.value === 'number') ? node.value : undefined;
    const seconds = raw === undefined ? undefined : parseDuration(raw);
    if (seconds === undefined) return fail(ctx, path, node, `${describe(node)} is not a duration`, DURATION_HINT);
    if (seconds < opts.min || seconds > opts.max) {
      return fail(
        ctx,
        path,
        node,
        `${formatDuration(seconds)} is outside the ${formatDuration(opts.min)}..${formatDuration(opts.max)} ${opts.what}`,
        opts.rangeHint,
      );
    }
    return seconds;
  };
}

export const readSessionDuration = readDuration({
  min: MIN_DURATION_SECONDS,
  max: MAX_DURATION_SECONDS,
  what: 'CreateSession accepts',
  rangeHint: 'use 15m to 12h (the Roles Anywhere profile may cap it lower)',
});

/** How often the key files are checked without waiting for events: 0 turns the check off. */
export const readWatchInterval = readDuration({ min: 0, max: 86_400, what: 'range for watch_interval', rangeHint: 'use 0 to turn the check off, or up to 1d' });
export const readConnectTimeout = readDuration({
  min: 1,
  max: 300,
  what: 'range for a connect timeout',
  rangeHint: 'use 1s to 5m; the default is 10s',
});

export const readPath: Reader<string> = (node, path, ctx) => {
  const text = readString(node, path, ctx);
  if (text === undefined) return undefined;
  const expanded = expandPath(text, ctx);
  if ('error' in expanded) return fail(ctx, path, node, expanded.error, expanded.hint);
  return expanded.path;
};

/** RFC 7512 shape, loosely: `pkcs11:` then `attr=value` pairs separated by `;`, then an optional query. */
const PKCS11_URI = /^[pP][kK][cC][sS]11:(?:[a-z][a-z0-9-]*=[^;?]*(?:;[a-z][a-z0-9-]*=[^;?]*)*)?(?:\?.*)?$/;


/** A pin-value attribute in the path or the query of a pkcs11: URI (RFC 7512). */
const PIN_VALUE = /(?:^pkcs11:|[;?&])pin-value=/i;

/** A file path, or a pkcs11: URI (left as written). */
export const readKeySource: Reader<string> = (node, path, ctx) => {
  if (node.kind === 'scalar' && typeof node.value === 'string' && isTpmHandle(node.value)) {
    return fail(ctx, path, node, `"${showTpmHandle(node.value)}" is a TPM key handle, which this agent does not support`, TPM_ROUTE_HINT);
  }
  if (node.kind === 'scalar' && typeof node.value === 'string' && isPkcs11Uri(node.value)) {
    // Refused, not warned about: the schedule holds no secrets. The URI is not echoed (it holds the PIN).
    if (PIN_VALUE.test(node.value) && !ctx.secretsAllowed) {
      return fail(ctx, path, node, 'the pkcs11: URI holds the token PIN (pin-value=), and the schedule holds no secrets', 'remove pin-value from the URI and set pkcs11_pin_file: or pkcs11_pin_env:');
    }
    if (!PKCS11_URI.test(node.value)) {
      // Shown without its pin-value (the command line may carry one).
      return fail(ctx, path, node, `${JSON.stringify(displayKeySource(node.value))} is not a valid pkcs11: URI`, 'RFC 7512 form: pkcs11:token=NAME;object=LABEL (percent-encode ; ? and spaces in values)');
    }
    return node.value;
  }
  // Any other source that is not a file (an ssh-agent:) is kept as written, never resolved as a path.
  if (node.kind === 'scalar' && typeof node.value === 'string' && isNonFileSource(node.value)) return node.value;
  return readPath(node, path, ctx);
};

export const readEnvName: Reader<string> = (node, path, ctx) => {
  const text = readString(node, path, ctx);
  if (text === undefined) return undefined;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) return fail(ctx, path, node, `"${text}" is not an environment variable name`, 'letters, digits and _, not starting with a digit; give the name, not ${NAME}');
  return text;
};

const SAMPLE_UUID = '00000000-0000-4000-8000-000000000000';

/** One ARN's shape, through validateArns with companions built to agree with it on partition and region. */
export function arnShapeProblem(field: ArnField, value: string): string | undefined {
  const parsed = parseArn(value);
  const partition = parsed?.partition ?? 'aws';
  const region = parsed?.region || 'us-east-1';
  const arns: Record<ArnField, string> = {
    trust_anchor_arn: `arn:${partition}:rolesanywhere:${region}:111122223333:trust-anchor/${SAMPLE_UUID}`,
    profile_arn: `arn:${partition}:rolesanywhere:${region}:111122223333:profile/${SAMPLE_UUID}`,
    role_arn: `arn:${partition}:iam::111122223333:role/sample`,
  };
  arns[field] = value;
  return validateArns(arns.trust_anchor_arn, arns.profile_arn, arns.role_arn).issues.find((i) => i.field === field)?.message;
}

export const ARN_HINT = 'copy the ARNs from the IAM Roles Anywhere console or `aws rolesanywhere list-trust-anchors` / `list-profiles`';

export function readArn(field: ArnField): Reader<string> {
  return (node, path, ctx) => {
    const text = readString(node, path, ctx);
    if (text === undefined) return undefined;
    const problem = arnShapeProblem(field, text);
    if (problem) return fail(ctx, path, node, problem);
    return text;
  };
}

export const readRoleSessionName: Reader<string> = (node, path, ctx) => {
  const text = readString(node, path, ctx);
  if (text === undefined) return undefined;
  if (!validRoleSessionName(text)) return fail(ctx, path, node, `"${text}" is not a valid role_session_name`, '2–64 characters of letters, digits and + = , . @ _ -');
  return text;
};

export const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

export const readRegion: Reader<string> = (node, path, ctx) => {
  const text = readString(node, path, ctx);
  if (text === undefined) return undefined;
  if (!REGION.test(text)) return fail(ctx, path, node, `"${text}" is not an AWS region name`, 'e.g. eu-west-1; or leave region out to use the trust anchor\'s');
  return text;
};

export const readEndpoint: Reader<string> = (node, path, ctx) => {
  const text = readString(node, path, ctx);
  if (text === undefined) return undefined;
  const problem = endpointUrlProblem(text);
  if (problem) return fail(ctx, path, node, problem.message, problem.hint);
  return text.replace(/\/+$/, '');
};

/**
 * `cron` (and luxon under it) costs more start-up than everything else these readers need, and only a
 * `refresh: {cron: …}` uses it: loaded on first use, so `credential-process` and the library never pay.
 */
let cronModule: typeof import('cron') | undefined;
function cron(): typeof import('cron') {
  return (cronModule ??= createRequire(import.meta.url)('cron') as typeof import('cron'));
}

export const readCron: Reader<string> = (node, path, ctx) => {
  const text = readString(node, path, ctx);
  if (text === undefined) return undefined;
  const { validateCronExpression, CronTime } = cron();
  const hint = 'five fields (minute hour day-of-month month day-of-week), e.g. "*/20 * * * *"';
  // Loaded for a cron expression only (see time/refresh.ts): cron and luxon are ~2 MB.
  const { valid, error } = (createRequire(import.meta.url)('cron') as typeof import('cron')).validateCronExpression(text);
  if (!valid) return fail(ctx, path, node, `"${text}" is not a valid cron expression: ${error?.message ?? 'rejected'}`, hint);
  try {
    // a fixed reference date keeps this pure; it only asks whether the expression can ever fire
    // (time/refresh.ts nextCronFire, which loads cron eagerly)
    new CronTime(text, 'UTC').getNextDateFrom(new Date(Date.UTC(2024, 0, 1)), 'UTC');
  } catch {
    return fail(ctx, path, node, `"${text}" never fires`, hint);
  }
  return text;
};

export const readTimeZone: Reader<string> = (node, path, ctx) => {
  const text = readString(node, path, ctx);
  if (text === undefined) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: text });
  } catch {
    return fail(ctx, path, node, `"${text}" is not a time zone`, 'an IANA name such as UTC or Europe/Paris');
  }
  return text;
};

/** Where the observability listener listens: a TCP address, or a unix socket path. */
export type ListenAddress = { host: string; port: number } | { socket: string };

/** Longest unix socket path every platform takes (sun_path is 104 bytes on macOS, 108 on Linux). */
export const MAX_SOCKET_PATH_BYTES = 103;

/**
 * `host:port`, `[v6]:port` (port 0..65535; 0 takes a free port, which the agent logs and writes to
 * its state file), or a unix socket path: absolute, `~/…`, or `./…`/`../…` relative to the schedule.
 */
export const readListen: Reader<ListenAddress> = (node, path, ctx) => {
  const text = readString(node, path, ctx);
  if (text === undefined) return undefined;
  if (/^(\/|~\/|\.\.?\/)/.test(text)) {
    const expanded = expandPath(text, ctx);
    if ('error' in expanded) return fail(ctx, path, node, expanded.error, expanded.hint);
    if (Buffer.byteLength(expanded.path) > MAX_SOCKET_PATH_BYTES) {
      return fail(ctx, path, node, `the socket path ${expanded.path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes`, 'unix socket paths are limited in length: choose a shorter one, e.g. under /run');
    }
    return { socket: expanded.path };
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) return fail(ctx, path, node, `"${text}" is not host:port`, 'e.g. "127.0.0.1:9464" or "[::1]:9464"');
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
};

/** Whole days (`30d`) or a duration (`12h`, seconds), 1 minute to 10 years. */
const WARNING_MAX_SECONDS = 3650 * 86_400;
export const readExpiryWarnings: Reader<number[]> = (node, path, ctx) => {
  if (node.kind !== 'seq') return fail(ctx, path, node, `expected a list of durations, got ${describe(node)}`, 'e.g. [30d, 7d, 1d], or [] for no warnings');
  const out: number[] = [];
  let ok = true;
  node.items.forEach((item, i) => {
    const p = `${path}[${i}]`;
    const raw = item.kind === 'scalar' && (typeof item.value === 'string' || typeof item.value === 'number') ? item.value : undefined;
    const days = typeof raw === 'string' ? /^\s*(\d+)d\s*$/.exec(raw) : null;
    const seconds = days ? Number(days[1]) * 86_400 : raw === undefined ? undefined : parseDuration(raw);
    if (seconds === undefined) {
      ok = false;
      fail(ctx, p, item, `${describe(item)} is not a duration`, 'write days (30d), or a duration such as 12h');
    } else if (seconds < 60 || seconds > WARNING_MAX_SECONDS) {
      ok = false;
      fail(ctx, p, item, `${String(raw).trim()} is outside the 1m..3650d range for a certificate expiry warning`);
    } else out.push(seconds);
  });
  return ok ? [...new Set(out)].sort((a, b) => b - a) : undefined;
};

// ---------------------------------------------------------------------------------------------
// maps: each known key visited once; non-maps, repeated keys and unknown keys reported with a did-you-mean

/** Visits a map's known keys once each; reports non-maps, repeated keys and unknown keys. */
export function walkMap(
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

export function at(pos: Position | undefined): string {
  return pos ? ` (first at line ${pos.line}:${pos.column})` : '';
}

/** An explicit null (`key:` or `key: null`), not the remains of a value that failed to resolve. */
export const isNull = (node: RawNode) => node.kind === 'scalar' && node.value === null && !node.failed;