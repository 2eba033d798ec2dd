/**
 * The schedule file: YAML text into a typed, fully resolved Schedule. Layering happens in one place —
 * built-in defaults ← environment (AWS_CA_BUNDLE…) ← `defaults:` ← each profile ← the caller's
 * overrides (CLI flags), through src/config/profile/ — and validation runs once over the result, collecting
 * every issue with its path, line:column and hint before throwing one ConfigError. Pure: text in,
 * Schedule out (no filesystem, no clock).
 *
 * - `refresh:` is replaced as a whole, never merged key by key;
 * - a problem that comes from `defaults:` alone is reported once at `defaults.…`; one that involves
 *   a profile's own values is reported at `profiles.<name>.…`.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { profileNameProblem } from '../credentials-file/profile-name.js';
import { mergeLayers, readEnvLayer, readProfileLayer, resolveProfile, type ProfileLayer } from './profile/resolve.js';
import { at, describe, isNull, readBoolean, readEnum, readExpiryWarnings, readListen, readNumber, readPath, walkMap, type FieldContext } from './fields.js';
import { ConfigError, issue, type ConfigIssue, type Position } from './issues.js';
import { childPath, jsToTree, type RawEntry, type RawNode } from './node.js';
import {
  DEFAULT_CERTIFICATE_EXPIRY_WARNINGS,
  DEFAULT_RATE_LIMIT,
  LOG_LEVELS,
  type LogLevel,
  type RateLimit,
  type ResolvedProfile,
  type Schedule,
  type ScheduleDeps,
} from './schedule.js';
import { checkServeProfiles, readServe, type ServeSettings } from './serve.js';
import { yamlToTree } from './tree.js';

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

  const envLayer = readEnvLayer(deps.env, ctx);
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
      const nameProblem = profileNameProblem(entry.key);
      if (nameProblem) {
        issues.push(issue(path, entry.keyPos, nameProblem.message, nameProblem.hint));
        continue;
      }
      const own = readProfileLayer(entry.value, path, 'profile', ctx);
      if (!own) continue;
      const merged = mergeLayers([envLayer, defaultsLayer, own, overrideLayer]);
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
