/**
 * The ECS-style endpoint (container credentials provider): `GET /v1/credentials/<profile>` with
 * `Authorization: <that profile's token>` answers the credentials document
 * `{AccessKeyId, SecretAccessKey, Token, Expiration, AccountId?}`. The token is checked before
 * anything else, so an unauthenticated caller learns nothing, not even which profiles exist:
 * no token → 401, a token that is not this profile's → 403, a profile without valid credentials
 * → 503 with the reason.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CredentialSource } from './source.js';
import { header, pathOf, sendError, sendJson, type CountRequest } from './reply.js';
import type { EcsTokens } from './tokens.js';

export const ECS_PREFIX = '/v1/credentials/';

export interface EcsDeps {
  source: CredentialSource;
  tokens: EcsTokens;
  count?: CountRequest;
}

export function ecsHandler(deps: EcsDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { source, tokens } = deps;
  const count = deps.count ?? (() => {});
  return (req, res) => {
    const path = pathOf(req);
    if (path === undefined || !path.startsWith(ECS_PREFIX) || path.length === ECS_PREFIX.length || path.indexOf('/', ECS_PREFIX.length) >= 0) {
      count('ecs', '', 'not_found');
      return sendError(req, res, 404, 'NotFound', `not found: credentials are served at ${ECS_PREFIX}<profile>`, 'ecs');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      count('ecs', '', 'method_not_allowed');
      return sendError(req, res, 405, 'MethodNotAllowed', 'only GET', 'ecs', { Allow: 'GET, HEAD' });
    }
    const profile = path.slice(ECS_PREFIX.length);
    const check = tokens.check(profile, header(req, 'authorization'));
    if (check !== 'ok') {
      // Until the token matches, the profile name is the caller's, not one of ours: count it as ''.
      count('ecs', '', check === 'missing' ? 'unauthorized' : 'forbidden');
      return check === 'missing'
        ? sendError(req, res, 401, 'Unauthorized', 'the Authorization header must carry the profile\'s token (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN)', 'ecs')
        : sendError(req, res, 403, 'Forbidden', `the token does not open the profile "${profile.slice(0, 64)}"`, 'ecs');
    }
    const hit = source.lookup(profile);
    if (hit.kind === 'ok') {
      count('ecs', profile, 'success');
      return sendJson(req, res, 200, source.ecsBody(hit));
    }
    count('ecs', profile, 'unavailable');
    // 'unknown': the token file exists but the profile was removed by a reload an instant ago.
    return sendError(req, res, 503, 'CredentialsUnavailable', hit.kind === 'unavailable' ? hit.reason : `profile "${profile}" is no longer in the schedule`, 'ecs', { 'Retry-After': '5' });
  };
}
