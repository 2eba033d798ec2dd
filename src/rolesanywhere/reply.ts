/**
 * Turns a CreateSession HTTP reply into Credentials or a typed AgentError. A success must carry a
 * complete credentialSet[0] with an expiration in the future: a reply that would give a zero or
 * past expiry is an error, never a credential; so is one later than the duration asked for (plus
 * clock skew), which would never be refreshed. Every text the service sends that reaches a message
 * is cut to a bounded length and has its control characters escaped.
 */
import { AgentError } from '../errors.js';
import { escapeControls } from '../log/escape-controls.js';
import type { Credentials } from '../credentials.js';
import type { HttpReply } from './transport.js';

export interface SessionResult {
  credentials: Credentials;
  /** "CN=…" as the service saw the certificate. */
  sourceIdentity?: string;
  assumedRoleArn?: string;
  requestId?: string;
}

const SKEW_LIMIT_MS = 5 * 60 * 1000;
/** An error message longer than this is cut: a 500 KB one reached stderr, the summary and the state file. */
export const MAX_SERVICE_MESSAGE = 1000;
/** Error types, request ids, identities and other short fields. */
const MAX_SERVICE_FIELD = 256;
/** The longest session CreateSession grants (12 h), when the caller did not say what it asked for. */
const MAX_SESSION_SECONDS = 43_200;
/** A full ISO 8601 / RFC 3339 timestamp with its zone, as CreateSession sends it. */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** A field of the reply as it may appear in a message or a status: bounded, one line. */
function field(text: string, max = MAX_SERVICE_FIELD): string {
  return escapeControls(text, max);
}

function requestIdOf(reply: HttpReply): string | undefined {
  const id = reply.headers['x-amzn-requestid'] ?? reply.headers['x-amz-request-id'];
  return id ? field(id) : undefined;
}

function errorTypeOf(reply: HttpReply, parsed: Record<string, unknown> | undefined): string {
  const header = reply.headers['x-amzn-errortype'];
  const raw = header ?? (typeof parsed?.['__type'] === 'string' ? (parsed['__type'] as string) : '') ?? '';
  // "AccessDeniedException:http://internal.amazon.com/…" and "aws.protocol#Name" forms
  return field(raw.split(':')[0]!.split('#').pop() ?? '');
}

function messageOf(parsed: Record<string, unknown> | undefined, body: string): string {
  const m = parsed?.['message'] ?? parsed?.['Message'];
  if (typeof m === 'string' && m) return field(m, MAX_SERVICE_MESSAGE);
  return field(body.trim(), 200) || '(no message)';
}

function parseJson(body: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** When the reply's Date differs from local time by more than the service's tolerance. */
export function clockSkewHint(reply: HttpReply, nowMs: number): string | undefined {
  const date = reply.headers['date'];
  if (!date) return undefined;
  const server = Date.parse(date);
  if (Number.isNaN(server)) return undefined;
  const diff = nowMs - server;
  if (Math.abs(diff) <= SKEW_LIMIT_MS) return undefined;
  return `this host's clock reads ${new Date(nowMs).toISOString()} but the service's reads ${new Date(server).toISOString()} (${Math.round(diff / 1000)} s apart): synchronise the clock (NTP)`;
}

const DENIED_HINTS: Array<[RegExp, string]> = [
  [/scoped to a valid region|region/i, 'the request must be signed for the trust anchor\'s region: drop --region (region: in the schedule) or set it to the region in the trust anchor ARN'],
  [/roleSessionName|role session name/i, 'this Roles Anywhere profile does not accept custom role session names: remove --role-session-name (role_session_name:) or enable acceptRoleSessionName on the profile'],
  [/untrusted signing certificate|untrusted certificate|certificate chain/i, 'the trust anchor does not hold the CA that issued this certificate, or an intermediate is missing: pass --intermediates (intermediates: in the schedule) or fix the trust anchor'],
  [/signature|signed/i, 'the request signature did not verify: check that the private key matches the certificate and that nothing rewrites the request (proxy)'],
  [/expired|not yet valid|validity/i, 'check the certificate dates and this host\'s clock'],
  [/disabled/i, 'enable the trust anchor and the profile in IAM Roles Anywhere'],
];

export function replyToError(reply: HttpReply, nowMs: number, context: string): AgentError {
  const parsed = parseJson(reply.body);
  const type = errorTypeOf(reply, parsed);
  const message = messageOf(parsed, reply.body);
  const requestId = requestIdOf(reply);
  const base = { status: reply.status, requestId };
  const skew = clockSkewHint(reply, nowMs);
  const what = `${context}: CreateSession failed with ${reply.status}${type ? ` ${type}` : ''}: ${message}`;
  if (skew && (reply.status === 403 || reply.status === 400)) {
    return new AgentError('CLOCK_SKEW', what, { ...base, retryable: false, hint: skew });
  }
  if (reply.status === 429 || /Throttl/i.test(type)) {
    return new AgentError('THROTTLED', what, { ...base, retryable: true, hint: 'CreateSession is rate-limited per account and region; the agent backs off' });
  }
  if (reply.status >= 500) {
    return new AgentError('SERVICE_UNAVAILABLE', what, { ...base, retryable: true, hint: 'the service is having trouble; this is retried with backoff' });
  }
  if (reply.status === 403 || /AccessDenied/i.test(type)) {
    const hint =
      DENIED_HINTS.find(([re]) => re.test(message))?.[1] ??
      'check that the role\'s trust policy allows rolesanywhere.amazonaws.com for this trust anchor, that the profile lists the role, and that the certificate is issued by the trust anchor\'s CA';
    return new AgentError('ACCESS_DENIED', what, { ...base, retryable: false, hint });
  }
  if (reply.status === 404 || /NotFound/i.test(type)) {
    return new AgentError('RESOURCE_NOT_FOUND', what, {
      ...base,
      retryable: false,
      hint: 'check the trust anchor, profile and role ARNs and that the region (or endpoint) is the one they live in',
    });
  }
  if (reply.status === 400 || /Validation/i.test(type)) {
    return new AgentError('VALIDATION', what, {
      ...base,
      retryable: false,
      hint: 'check the session duration (900–43200 s and within the profile\'s limit) and the role session name',
    });
  }
  return new AgentError('BAD_RESPONSE', what, { ...base, retryable: false, hint: 'unexpected reply; check the endpoint URL' });
}

function str(o: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = o?.[key];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * `requestedSeconds`: the durationSeconds the request asked for; an expiration later than that
 * (plus the skew the service tolerates) is refused.
 */
export function parseSessionReply(reply: HttpReply, nowMs: number, context: string, requestedSeconds = MAX_SESSION_SECONDS): SessionResult {
  if (reply.status !== 201 && reply.status !== 200) throw replyToError(reply, nowMs, context);
  const requestId = requestIdOf(reply);
  const bad = (why: string) =>
    new AgentError('BAD_RESPONSE', `${context}: CreateSession answered ${reply.status} but ${why}`, {
      status: reply.status,
      requestId,
      retryable: true,
      hint: 'the reply was not a valid CreateSession result; check the endpoint URL and any proxy in between',
    });
  const parsed = parseJson(reply.body);
  if (!parsed) throw bad('the body is not a JSON object');
  const set = parsed['credentialSet'];
  if (!Array.isArray(set) || set.length === 0) throw bad('credentialSet is missing or empty');
  const first = set[0] as Record<string, unknown> | undefined;
  const c = first?.['credentials'] as Record<string, unknown> | undefined;
  if (!c || typeof c !== 'object') throw bad('credentialSet[0].credentials is missing');
  const accessKeyId = str(c, 'accessKeyId');
  const secretAccessKey = str(c, 'secretAccessKey');
  const sessionToken = str(c, 'sessionToken');
  const expirationText = str(c, 'expiration');
  const missing = [
    ['accessKeyId', accessKeyId],
    ['secretAccessKey', secretAccessKey],
    ['sessionToken', sessionToken],
    ['expiration', expirationText],
  ]
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length) throw bad(`credentials lack ${missing.join(', ')}`);
  // Keys and tokens are printable ASCII; anything else would end up in the credentials file or a
  // terminal (credential-process) as it came.
  const odd = ([['accessKeyId', accessKeyId], ['secretAccessKey', secretAccessKey], ['sessionToken', sessionToken]] as const).filter(([, v]) => !/^[\x21-\x7e]+$/.test(v!));
  if (odd.length) throw bad(`${odd.map(([k]) => k).join(', ')} hold${odd.length === 1 ? 's' : ''} characters other than printable ASCII`);
  // Date.parse reads "2999" as a year and "9999-12-31" as a date: only a full timestamp will do.
  const expMs = ISO_TIMESTAMP.test(expirationText!) ? Date.parse(expirationText!) : NaN;
  if (Number.isNaN(expMs)) throw bad(`expiration "${field(expirationText!, 64)}" is not a full ISO 8601 timestamp (such as 2026-01-01T12:00:00Z)`);
  if (expMs <= nowMs) {
    throw bad(`expiration ${new Date(expMs).toISOString()} is not in the future (local time ${new Date(nowMs).toISOString()})`);
  }
  const latest = nowMs + requestedSeconds * 1000 + SKEW_LIMIT_MS;
  if (expMs > latest) {
    throw bad(
      `expiration ${new Date(expMs).toISOString()} is later than the ${requestedSeconds} s asked for allow (at most ${new Date(latest).toISOString()}, local time ${new Date(nowMs).toISOString()}); such credentials would never be refreshed`,
    );
  }
  const result: SessionResult = {
    credentials: { accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey!, sessionToken: sessionToken!, expiration: new Date(expMs) },
  };
  const sourceIdentity = str(first, 'sourceIdentity');
  if (sourceIdentity) result.sourceIdentity = field(sourceIdentity);
  const aru = first?.['assumedRoleUser'] as Record<string, unknown> | undefined;
  const assumed = str(aru, 'arn');
  if (assumed) result.assumedRoleArn = field(assumed);
  if (requestId) result.requestId = requestId;
  return result;
}
