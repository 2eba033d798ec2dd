/**
 * What the emulator knows: trust anchors (ARN → CA certificates), profiles (ARN → allowed roles,
 * session duration, whether a custom role session name is accepted) and roles (ARN → the trust
 * anchors its trust policy allows). The in-memory form is plain data the server re-reads on every
 * request, so tests may add or change entries while it runs. Also the config-file form (YAML or
 * JSON) for the CLI, validated with every issue reported with its path and line, and the quick
 * form built from `--trust-anchor ARN=ca.pem --profile ARN --role ARN`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { AgentError } from '../errors.js';
import { MAX_DURATION_SECONDS, MIN_DURATION_SECONDS, parseArn } from '../rolesanywhere/arn.js';
import { parsePemBundle } from './certificate.js';
import type { FaultSettings } from './faults.js';

export interface TrustAnchorConfig {
  arn: string;
  /** PEM texts; each may hold several certificates (root or intermediate CAs). */
  certificates: string[];
  /** Default true. */
  enabled?: boolean;
}

export interface ProfileConfig {
  arn: string;
  roleArns: string[];
  /** Default false, as on the service. */
  acceptRoleSessionName?: boolean;
  /** Session length the profile vends, capping a longer request. Default 3600, as on the service. */
  durationSeconds?: number;
  /** Default true. */
  enabled?: boolean;
}

export interface RoleConfig {
  arn: string;
  /** Trust anchors the role's trust policy allows `rolesanywhere.amazonaws.com` to assume it from. */
  trustAnchorArns: string[];
}

export interface EmulatorConfig {
  trustAnchors: TrustAnchorConfig[];
  profiles: ProfileConfig[];
  roles: RoleConfig[];
  /** Faults in force at start (the CLI's way to set them). */
  faults?: FaultSettings;
}

export const DEFAULT_PROFILE_DURATION_SECONDS = 3600;

export function emptyConfig(): EmulatorConfig {
  return { trustAnchors: [], profiles: [], roles: [] };
}

export interface ConfigIssue {
  path: string;
  line?: number;
  message: string;
}

function arnIssue(value: unknown, kind: 'trust-anchor' | 'profile' | 'role'): string | undefined {
  if (typeof value !== 'string') return 'must be an ARN string';
  const arn = parseArn(value);
  const service = kind === 'role' ? 'iam' : 'rolesanywhere';
  if (!arn || arn.service !== service || !arn.resource.startsWith(`${kind}/`)) {
    return `"${value}" is not a ${kind} ARN (arn:aws:${service}:${kind === 'role' ? '' : '<region>'}:<account>:${kind}/…)`;
  }
  if (kind !== 'role' && !arn.region) return `"${value}" has no region`;
  return undefined;
}

/**
 * Checks a config's shape and references; returns every issue (empty when it is usable). Paths use
 * the file's keys, e.g. `profiles[0].durationSeconds`.
 */
export function validateConfig(config: EmulatorConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string): void => void issues.push({ path, message });
  const anchors = new Set<string>();
  const roles = new Set<string>();
  const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
  for (const key of ['trustAnchors', 'profiles', 'roles'] as const) {
    if (!Array.isArray(config[key])) add(key, 'must be a list');
  }
  arr(config.trustAnchors).forEach((ta: any, i) => {
    const p = `trustAnchors[${i}]`;
    const bad = arnIssue(ta?.arn, 'trust-anchor');
    if (bad) add(`${p}.arn`, bad);
    else if (anchors.has(ta.arn)) add(`${p}.arn`, `duplicate trust anchor ${ta.arn}`);
    else anchors.add(ta.arn);
    if (ta?.enabled !== undefined && typeof ta.enabled !== 'boolean') add(`${p}.enabled`, 'must be true or false');
    const certs = arr(ta?.certificates);
    if (certs.length === 0) add(`${p}.certificates`, 'needs at least one CA certificate');
    certs.forEach((pem, j) => {
      try {
        const parsed = typeof pem === 'string' ? parsePemBundle(pem) : [];
        if (parsed.length === 0) add(`${p}.certificates[${j}]`, 'holds no PEM CERTIFICATE block');
        for (const c of parsed) {
          if (!c.basicConstraints?.ca) add(`${p}.certificates[${j}]`, `${c.subject} is not a CA certificate (basicConstraints CA:true)`);
        }
      } catch (e) {
        add(`${p}.certificates[${j}]`, `is not a readable certificate: ${(e as Error).message}`);
      }
    });
  });
  arr(config.roles).forEach((r: any, i) => {
    const p = `roles[${i}]`;
    const bad = arnIssue(r?.arn, 'role');
    if (bad) add(`${p}.arn`, bad);
    else if (roles.has(r.arn)) add(`${p}.arn`, `duplicate role ${r.arn}`);
    else roles.add(r.arn);
    if (!Array.isArray(r?.trustAnchorArns)) add(`${p}.trustAnchorArns`, 'must be a list of trust anchor ARNs');
    arr(r?.trustAnchorArns).forEach((a, j) => {
      if (typeof a !== 'string' || !anchors.has(a)) add(`${p}.trustAnchorArns[${j}]`, `${String(a)} is not a trust anchor of this config`);
    });
  });
  const profiles = new Set<string>();
  arr(config.profiles).forEach((pr: any, i) => {
    const p = `profiles[${i}]`;
    const bad = arnIssue(pr?.arn, 'profile');
    if (bad) add(`${p}.arn`, bad);
    else if (profiles.has(pr.arn)) add(`${p}.arn`, `duplicate profile ${pr.arn}`);
    else profiles.add(pr.arn);
    if (!Array.isArray(pr?.roleArns)) add(`${p}.roleArns`, 'must be a list of role ARNs');
    arr(pr?.roleArns).forEach((a, j) => {
      if (typeof a !== 'string' || !roles.has(a)) add(`${p}.roleArns[${j}]`, `${String(a)} is not a role of this config`);
    });
    const d = pr?.durationSeconds;
    if (d !== undefined && (!Number.isInteger(d) || d < MIN_DURATION_SECONDS || d > MAX_DURATION_SECONDS)) {
      add(`${p}.durationSeconds`, `must be a whole number of seconds from ${MIN_DURATION_SECONDS} to ${MAX_DURATION_SECONDS}`);
    }
    for (const flag of ['acceptRoleSessionName', 'enabled'] as const) {
      if (pr?.[flag] !== undefined && typeof pr[flag] !== 'boolean') add(`${p}.${flag}`, 'must be true or false');
    }
  });
  return issues;
}

function fileIssue(issues: ConfigIssue[], file: string): AgentError {
  const lines = issues.map((i) => `  ${file}${i.line ? `:${i.line}` : ''} ${i.path}: ${i.message}`);
  return new AgentError('CONFIG_INVALID', `emulator config ${file} has ${issues.length} problem(s):\n${lines.join('\n')}`, {
    hint: 'fix the listed entries (see `emulator --help` for the format)',
  });
}

function lineOf(doc: Document, counter: LineCounter, path: string): number | undefined {
  const keys = path.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== '').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  for (let n = keys.length; n > 0; n--) {
    const node = doc.getIn(keys.slice(0, n), true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

const FILE_KEYS = {
  top: ['trustAnchors', 'profiles', 'roles', 'faults'],
  trustAnchor: ['arn', 'certificateFiles', 'certificatePem', 'enabled'],
  profile: ['arn', 'roleArns', 'acceptRoleSessionName', 'durationSeconds', 'enabled'],
  role: ['arn', 'trustAnchorArns'],
  faults: ['failNext', 'throttleRps', 'latencyMs', 'dropNext', 'shortLivedSeconds'],
};

/**
 * Reads a YAML or JSON emulator config. Trust anchors give `certificateFiles` (paths relative to
 * the config file) and/or an inline `certificatePem`. Throws AgentError CONFIG_INVALID listing
 * every problem with its line.
 */
export async function loadEmulatorConfig(file: string): Promise<EmulatorConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new AgentError('FILE_UNREADABLE', `emulator config ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? e}`, {
      cause: e,
      hint: 'check the --config path',
    });
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  if (doc.errors.length) {
    throw fileIssue(
      doc.errors.map((e) => ({ path: '(syntax)', line: e.linePos?.[0]?.line, message: e.message.split('\n')[0]! })),
      file,
    );
  }
  const raw: any = doc.toJS() ?? {};
  const issues: ConfigIssue[] = [];
  const unknownKeys = (obj: any, allowed: string[], path: string): void => {
    if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
      for (const k of Object.keys(obj)) if (!allowed.includes(k)) issues.push({ path: path ? `${path}.${k}` : k, message: 'unknown key' });
    } else {
      issues.push({ path: path || '(top)', message: 'must be a mapping' });
    }
  };
  unknownKeys(raw, FILE_KEYS.top, '');
  const base = dirname(resolve(file));
  const trustAnchors: TrustAnchorConfig[] = [];
  for (const [i, ta] of (Array.isArray(raw.trustAnchors) ? raw.trustAnchors : []).entries()) {
    const p = `trustAnchors[${i}]`;
    unknownKeys(ta, FILE_KEYS.trustAnchor, p);
    const certificates: string[] = [];
    const files = ta?.certificateFiles ?? [];
    if (!Array.isArray(files)) issues.push({ path: `${p}.certificateFiles`, message: 'must be a list of file paths' });
    for (const [j, f] of (Array.isArray(files) ? files : []).entries()) {
      try {
        certificates.push(await readFile(resolve(base, String(f)), 'utf8'));
      } catch (e) {
        issues.push({ path: `${p}.certificateFiles[${j}]`, message: `${String(f)} cannot be read (${(e as NodeJS.ErrnoException).code})` });
      }
    }
    if (ta?.certificatePem !== undefined) certificates.push(String(ta.certificatePem));
    const entry: TrustAnchorConfig = { arn: ta?.arn, certificates };
    if (ta?.enabled !== undefined) entry.enabled = ta.enabled;
    trustAnchors.push(entry);
  }
  // Anything but a list stays as it is, so validateConfig reports it at its own path.
  const profiles = raw.profiles ?? [];
  const roles = raw.roles ?? [];
  if (Array.isArray(profiles)) profiles.forEach((x: unknown, i: number) => unknownKeys(x, FILE_KEYS.profile, `profiles[${i}]`));
  if (Array.isArray(roles)) roles.forEach((x: unknown, i: number) => unknownKeys(x, FILE_KEYS.role, `roles[${i}]`));
  if (raw.trustAnchors !== undefined && !Array.isArray(raw.trustAnchors)) issues.push({ path: 'trustAnchors', message: 'must be a list' });
  const config: EmulatorConfig = { trustAnchors, profiles, roles };
  if (raw.faults !== undefined) {
    unknownKeys(raw.faults, FILE_KEYS.faults, 'faults');
    config.faults = raw.faults;
  }
  issues.push(...validateConfig(config));
  if (config.faults) issues.push(...validateFaultSettings(config.faults));
  if (issues.length) {
    for (const i of issues) i.line ??= lineOf(doc, counter, i.path);
    throw fileIssue(issues, file);
  }
  return config;
}

export function validateFaultSettings(f: FaultSettings): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const whole = (v: unknown, min: number): boolean => Number.isInteger(v) && (v as number) >= min;
  if (f.failNext !== undefined) {
    if (!whole(f.failNext?.count, 0)) issues.push({ path: 'faults.failNext.count', message: 'must be a whole number >= 0' });
    if (!whole(f.failNext?.status, 400) || f.failNext.status > 599) issues.push({ path: 'faults.failNext.status', message: 'must be an HTTP status 400..599' });
  }
  if (f.throttleRps !== undefined && !(typeof f.throttleRps === 'number' && f.throttleRps > 0)) issues.push({ path: 'faults.throttleRps', message: 'must be > 0' });
  if (f.latencyMs !== undefined && !whole(f.latencyMs, 0)) issues.push({ path: 'faults.latencyMs', message: 'must be a whole number >= 0' });
  if (f.dropNext !== undefined && !whole(f.dropNext, 0)) issues.push({ path: 'faults.dropNext', message: 'must be a whole number >= 0' });
  if (f.shortLivedSeconds !== undefined && !whole(f.shortLivedSeconds, 1)) issues.push({ path: 'faults.shortLivedSeconds', message: 'must be a whole number >= 1' });
  return issues;
}

export interface QuickSetup {
  trustAnchors: Array<{ arn: string; certificatePem: string }>;
  profileArns: string[];
  roleArns: string[];
  acceptRoleSessionName?: boolean;
  durationSeconds?: number;
}

/** Every role allowed by every profile and trusting every trust anchor. */
export function quickConfig(q: QuickSetup): EmulatorConfig {
  const anchorArns = q.trustAnchors.map((t) => t.arn);
  return {
    trustAnchors: q.trustAnchors.map((t) => ({ arn: t.arn, certificates: [t.certificatePem] })),
    roles: q.roleArns.map((arn) => ({ arn, trustAnchorArns: [...anchorArns] })),
    profiles: q.profileArns.map((arn) => {
      const p: ProfileConfig = { arn, roleArns: [...q.roleArns] };
      if (q.acceptRoleSessionName !== undefined) p.acceptRoleSessionName = q.acceptRoleSessionName;
      if (q.durationSeconds !== undefined) p.durationSeconds = q.durationSeconds;
      return p;
    }),
  };
}

/**
 * The quick form from `ARN=ca.pem` strings and ARN lists, reading the CA files; throws AgentError
 * CONFIG_INVALID / FILE_UNREADABLE naming the bad argument.
 */
export async function quickConfigFromFiles(
  trustAnchorSpecs: string[],
  profileArns: string[],
  roleArns: string[],
  extra: Pick<QuickSetup, 'acceptRoleSessionName' | 'durationSeconds'> = {},
): Promise<EmulatorConfig> {
  const trustAnchors: QuickSetup['trustAnchors'] = [];
  for (const spec of trustAnchorSpecs) {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) {
      throw new AgentError('ARGUMENT_INVALID', `--trust-anchor "${spec}" must be ARN=ca-file.pem`);
    }
    const file = spec.slice(eq + 1);
    let certificatePem: string;
    try {
      certificatePem = await readFile(file, 'utf8');
    } catch (e) {
      throw new AgentError('FILE_UNREADABLE', `--trust-anchor CA file ${file} cannot be read (${(e as NodeJS.ErrnoException).code})`, { cause: e });
    }
    trustAnchors.push({ arn: spec.slice(0, eq), certificatePem });
  }
  const q: QuickSetup = { trustAnchors, profileArns, roleArns, ...extra };
  const config = quickConfig(q);
  const issues = validateConfig(config);
  if (issues.length) {
    const flag = (path: string): string =>
      path.startsWith('trustAnchors') ? '--trust-anchor' : path.startsWith('profiles') ? '--profile' : '--role';
    throw new AgentError('CONFIG_INVALID', issues.map((i) => `${flag(i.path)} ${i.path}: ${i.message}`).join('\n'), {
      hint: 'give --trust-anchor ARN=ca.pem, --profile ARN and --role ARN with valid ARNs',
    });
  }
  return config;
}
