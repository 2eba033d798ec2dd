/**
 * The CreateSession parameters from a received request: the three ARNs from the query string (as
 * the official helper sends them) or the JSON body (as the API guide's examples do), and
 * `durationSeconds` / `roleSessionName` from the body. An ARN given in both places must be the same
 * in both; a difference is a ValidationException rather than a silent choice, so a client that
 * sends conflicting values finds out. Shape checks only; whether the resources exist is policy.
 */
import { MAX_DURATION_SECONDS, MIN_DURATION_SECONDS, validateArns, validRoleSessionName, type ValidArns } from '../rolesanywhere/arn.js';
import { parseRawQuery, splitUrl } from './canonical.js';
import { validation, type ServiceError } from './service-error.js';

export interface SessionRequest {
  trustAnchorArn: string;
  profileArn: string;
  roleArn: string;
  arns: ValidArns;
  durationSeconds?: number;
  roleSessionName?: string;
  /** Where the ARNs came from, for the request log. */
  arnsFrom: 'query' | 'body' | 'both';
}

const ARN_FIELDS = ['trustAnchorArn', 'profileArn', 'roleArn'] as const;

/** The ARNs as far as they can be read, for recording a refused request. */
export function peekArns(rawUrl: string, body: Buffer): Partial<Record<(typeof ARN_FIELDS)[number], string>> {
  const out: Partial<Record<(typeof ARN_FIELDS)[number], string>> = {};
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    json = undefined;
  }
  const pairs = parseRawQuery(splitUrl(rawUrl).query) ?? [];
  for (const f of ARN_FIELDS) {
    const q = pairs.find(([k]) => k === f)?.[1];
    const b = json && typeof json === 'object' ? (json as Record<string, unknown>)[f] : undefined;
    const v = q ?? (typeof b === 'string' ? b : undefined);
    if (v !== undefined) out[f] = v;
  }
  return out;
}

export function parseSessionRequest(rawUrl: string, body: Buffer): SessionRequest | ServiceError {
  const pairs = parseRawQuery(splitUrl(rawUrl).query);
  if (!pairs) return validation('BODY_MALFORMED', 'The query string has a broken percent-escape');
  let json: unknown = {};
  if (body.length > 0) {
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return validation('BODY_MALFORMED', 'The request body is not valid JSON');
    }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return validation('BODY_MALFORMED', 'The request body must be a JSON object');
  }
  const b = json as Record<string, unknown>;
  const values: Record<string, string> = {};
  let fromQuery = 0;
  let fromBody = 0;
  for (const f of ARN_FIELDS) {
    const inQuery = pairs.filter(([k]) => k === f).map(([, v]) => v);
    if (inQuery.length > 1) return validation('ARN_CONFLICT', `${f} appears ${inQuery.length} times in the query string`);
    const q = inQuery[0];
    const raw = b[f];
    if (raw !== undefined && typeof raw !== 'string') return validation('ARN_INVALID', `${f} in the body must be a string`);
    if (q !== undefined && raw !== undefined && q !== raw) {
      return validation('ARN_CONFLICT', `${f} differs between the query string ("${q}") and the body ("${raw}")`);
    }
    const v = q ?? raw;
    if (v === undefined || v === '') return validation('ARN_MISSING', `${f} is required (in the query string or the JSON body)`);
    if (q !== undefined) fromQuery++;
    if (raw !== undefined) fromBody++;
    values[f] = v;
  }
  const { issues, arns } = validateArns(values.trustAnchorArn!, values.profileArn!, values.roleArn!);
  if (!arns) return validation('ARN_INVALID', issues.map((i) => i.message).join('; '));

  const out: SessionRequest = {
    trustAnchorArn: values.trustAnchorArn!,
    profileArn: values.profileArn!,
    roleArn: values.roleArn!,
    arns,
    arnsFrom: fromBody === 0 ? 'query' : fromQuery === 0 ? 'body' : 'both',
  };
  const d = b.durationSeconds;
  if (d !== undefined && d !== null) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < MIN_DURATION_SECONDS || d > MAX_DURATION_SECONDS) {
      return validation(
        'DURATION_INVALID',
        `1 validation error detected: Value '${JSON.stringify(d)}' at 'durationSeconds' failed to satisfy constraint: Member must be a whole number between ${MIN_DURATION_SECONDS} and ${MAX_DURATION_SECONDS}`,
      );
    }
    out.durationSeconds = d;
  }
  const name = b.roleSessionName;
  if (name !== undefined && name !== null) {
    if (typeof name !== 'string' || !validRoleSessionName(name)) {
      return validation(
        'SESSION_NAME_INVALID',
        `1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must be 2 to 64 characters of [\\w+=,.@-]`,
      );
    }
    out.roleSessionName = name;
  }
  return out;
}
