/**
 * The reader of each setting of the catalogue: the schedule's, the command line's and the library's.
 * A table of its own so that the flag table and `--help` load no reader (credential-process start-up,
 * issue 17); its type requires one reader for every key of the catalogue, and no other. The readers of
 * single values are in config/fields.ts; `refresh:` (a map) is read here.
 */
import {
  readCron,
  readDuration,
  readTimeZone,
  walkMap,
  readArn,
  readBoolean,
  readConnectTimeout,
  readEndpoint,
  readEnvName,
  readKeySource,
  readPath,
  readRegion,
  readRoleSessionName,
  readSessionDuration,
  readWatchInterval,
  type Reader,
} from '../fields.js';
import { issue, type Position } from '../issues.js';
import { childPath } from '../node.js';
import { MIN_MARGIN_MS } from '../../time/refresh.js';
import type { ProfileKey } from './catalogue.js';

// `refresh:`: before_expiry or cron, with jitter and a time zone for cron.

/** What `refresh:` says, before the session's defaults fill in the jitter. */
export type RefreshInput =
  | { kind: 'before_expiry'; marginSeconds: number; jitterSeconds?: number; marginPos?: Position }
  | { kind: 'cron'; expression: string; timeZone?: string; jitterSeconds?: number };

export const readRefresh: Reader<RefreshInput> = (node, path, ctx) => {
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

export const PROFILE_READERS: { readonly [K in ProfileKey]: Reader<unknown> } = {
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
