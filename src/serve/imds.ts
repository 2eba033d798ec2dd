/**
 * The IMDSv2-style endpoint (instance-metadata credentials provider), for one profile served as
 * the instance role. `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` (1–21600)
 * returns a session token; every GET needs it in `X-aws-ec2-metadata-token`, else 401 — there is
 * no IMDSv1. As on EC2, a PUT that carries `X-Forwarded-For` (it came through a proxy) is refused,
 * so a server-side request forgery through a local proxy cannot get a token.
 *   GET /latest/meta-data/iam/security-credentials/         → the profile's name
 *   GET /latest/meta-data/iam/security-credentials/<name>   → the credentials document
 *   GET /latest/meta-data/placement/region                  → the profile's region (SDKs that take
 *                                                             the Region from IMDS ask this)
 * Session tokens live in memory only, at most MAX_SESSIONS at once (the oldest go first).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../time/clock.js';
import type { CredentialSource } from './source.js';
import { header, pathOf, send, sendError, sendJson, type CountRequest } from './reply.js';

export const TOKEN_PATH = '/latest/api/token';
export const CREDENTIALS_PATH = '/latest/meta-data/iam/security-credentials/';
export const REGION_PATH = '/latest/meta-data/placement/region';
export const TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
export const TOKEN_HEADER = 'x-aws-ec2-metadata-token';
export const MAX_TTL_SECONDS = 21_600;
const MAX_SESSIONS = 10_000;

export interface ImdsDeps {
  source: CredentialSource;
  clock: Clock;
  /** The profile served as the instance role (read per request: a reload may change it). */
  profile(): string;
  /** The region of a profile of the schedule (its CreateSession region); undefined for none. */
  regionOf?(profile: string): string | undefined;
  count?: CountRequest;
  random?: (n: number) => Buffer;
}

export function imdsHandler(deps: ImdsDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { source, clock } = deps;
  const count = deps.count ?? (() => {});
  const random = deps.random ?? randomBytes;
  /** token → expiry (clock ms); a Map keeps insertion order, so the first entries are the oldest. */
  const sessions = new Map<string, number>();

  const issue = (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers['x-forwarded-for'] !== undefined) {
      count('imds', '', 'forbidden');
      return sendError(req, res, 403, 'Forbidden', 'a token request that went through a proxy (X-Forwarded-For) is refused', 'imds');
    }
    const raw = header(req, TTL_HEADER);
    const ttl = raw !== undefined && /^\d{1,5}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    if (!(ttl >= 1 && ttl <= MAX_TTL_SECONDS)) {
      count('imds', '', 'bad_request');
      return sendError(req, res, 400, 'BadRequest', `${TTL_HEADER} must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}`, 'imds');
    }
    const now = clock.now();
    if (sessions.size >= MAX_SESSIONS) {
      for (const [t, exp] of sessions) if (exp <= now) sessions.delete(t);
      for (const t of sessions.keys()) {
        if (sessions.size < MAX_SESSIONS) break;
        sessions.delete(t);
      }
    }
    const token = random(32).toString('base64url');
    sessions.set(token, now + ttl * 1000);
    count('imds', '', 'token_issued');
    send(req, res, 200, token, 'text/plain', { [TTL_HEADER]: String(ttl) });
  };

  const authorised = (req: IncomingMessage): boolean => {
    const token = header(req, TOKEN_HEADER);
    if (token === undefined) return false;
    const exp = sessions.get(token);
    if (exp === undefined) return false;
    if (exp <= clock.now()) {
      sessions.delete(token);
      return false;
    }
    return true;
  };

  return (req, res) => {
    const path = pathOf(req);
    if (path === TOKEN_PATH) {
      if (req.method === 'PUT') return issue(req, res);
      count('imds', '', 'method_not_allowed');
      return sendError(req, res, 405, 'MethodNotAllowed', `${TOKEN_PATH} takes PUT`, 'imds', { Allow: 'PUT' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      count('imds', '', 'method_not_allowed');
      return sendError(req, res, 405, 'MethodNotAllowed', 'only GET (and PUT for a token)', 'imds', { Allow: 'GET, HEAD' });
    }
    if (!authorised(req)) {
      // IMDSv2 only: no token, an unknown one or an expired one is 401, whatever the path.
      count('imds', '', 'unauthorized');
      return sendError(req, res, 401, 'Unauthorized', `a session token is required: PUT ${TOKEN_PATH} first and send it in X-aws-ec2-metadata-token`, 'imds');
    }
    const profile = deps.profile();
    if (path === CREDENTIALS_PATH || path === CREDENTIALS_PATH.slice(0, -1)) {
      count('imds', profile, 'success');
      return send(req, res, 200, profile, 'text/plain');
    }
    if (path === CREDENTIALS_PATH + profile) {
      const hit = source.lookup(profile);
      if (hit.kind === 'ok') {
        count('imds', profile, 'success');
        return sendJson(req, res, 200, source.imdsBody(hit));
      }
      count('imds', profile, 'unavailable');
      return sendError(req, res, 503, 'CredentialsUnavailable', hit.kind === 'unavailable' ? hit.reason : `profile "${profile}" is not in the schedule`, 'imds', { 'Retry-After': '5' });
    }
    if (path === REGION_PATH) {
      const region = deps.regionOf?.(profile);
      if (region !== undefined) {
        count('imds', profile, 'success');
        return send(req, res, 200, region, 'text/plain');
      }
      count('imds', profile, 'not_found');
      return sendError(req, res, 404, 'NotFound', `profile "${profile}" is not in the schedule, so it has no region`, 'imds');
    }
    count('imds', '', 'not_found');
    return sendError(req, res, 404, 'NotFound', `not found: this endpoint serves ${TOKEN_PATH}, ${CREDENTIALS_PATH}${profile} and ${REGION_PATH}`, 'imds');
  };
}
