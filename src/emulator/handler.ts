/**
 * One CreateSession request from received bytes to outcome, in the service's order: route,
 * authentication (signature, date, certificate), parameters, region, trust anchor, end-entity
 * rules and chain, profile and role policy, then credentials. No I/O and no clock reads: the server
 * passes `now`, so every branch is testable without a socket.
 */
import type { Arn } from '../rolesanywhere/arn.js';
import { authenticate, type Authenticated } from './authenticate.js';
import { authorize, findTrustAnchor } from './authorize.js';
import { splitUrl, headerValues, type ReceivedForSigning } from './canonical.js';
import { parseCertificate, parsePemBundle, strictBase64, type ParsedCert } from './certificate.js';
import { buildChain, checkEndEntity } from './chain.js';
import type { EmulatorConfig, TrustAnchorConfig } from './config.js';
import { issueCredentials, type CreateSessionResponse, type IssuedCredentials, type RandomSource } from './credentials.js';
import { accessDenied, isServiceError, validation, type ServiceError } from './service-error.js';
import { parseSessionRequest, peekArns, type SessionRequest } from './session-request.js';

export type ReceivedRequest = ReceivedForSigning;

/** What the request log keeps of a request, whatever its outcome. */
export interface RequestFacts {
  serial?: string;
  trustAnchorArn?: string;
  profileArn?: string;
  roleArn?: string;
  arnsFrom?: SessionRequest['arnsFrom'];
}

export type Outcome =
  | { ok: true; body: CreateSessionResponse; issued: IssuedCredentials; facts: RequestFacts }
  | { ok: false; error: ServiceError; facts: RequestFacts };

export interface HandlerContext {
  config: EmulatorConfig;
  now: number;
  shortLivedSeconds?: number;
  random?: RandomSource;
  /** Parsed trust anchor certificates by PEM text, so a bundle is parsed once. */
  anchorCache?: Map<string, ParsedCert[]>;
}

function anchorCertificates(ta: TrustAnchorConfig, cache: Map<string, ParsedCert[]> | undefined): ParsedCert[] {
  const out: ParsedCert[] = [];
  for (const pem of ta.certificates) {
    let parsed = cache?.get(pem);
    if (!parsed) {
      try {
        parsed = parsePemBundle(pem);
      } catch {
        parsed = []; // an unreadable bundle trusts nothing; config validation reports it
      }
      cache?.set(pem, parsed);
    }
    out.push(...parsed);
  }
  return out;
}

function isJsonContentType(values: string[]): boolean {
  return values.length === 1 && /^application\/json\s*(;.*)?$/i.test(values[0]!.trim());
}

/**
 * Best-effort facts for a request that is not verified (a fault took it first): the ARNs as sent
 * and the serial of the X-Amz-X509 certificate if it parses. Nothing here is trusted.
 */
export function peekFacts(req: ReceivedRequest): RequestFacts {
  const facts: RequestFacts = peekArns(req.rawUrl, req.body);
  const x509 = headerValues(req.rawHeaders, 'x-amz-x509');
  const der = x509.length === 1 ? strictBase64(x509[0]!) : undefined;
  if (der) {
    try {
      facts.serial = parseCertificate(der).serialDecimal;
    } catch {
      // not a certificate: no serial to record
    }
  }
  return facts;
}

export function handleCreateSession(req: ReceivedRequest, ctx: HandlerContext): Outcome {
  const facts: RequestFacts = peekArns(req.rawUrl, req.body);
  const fail = (error: ServiceError): Outcome => ({ ok: false, error, facts });

  const { path } = splitUrl(req.rawUrl);
  if (req.method !== 'POST' || path !== '/sessions') {
    return fail({ status: 404, errorType: 'UnknownOperationException', message: `No operation at ${req.method} ${path}; CreateSession is POST /sessions`, reason: 'UNKNOWN_OPERATION' });
  }

  const auth: Authenticated | ServiceError = authenticate(req, ctx.now);
  if (isServiceError(auth)) return fail(auth);
  facts.serial = auth.leaf.serialDecimal;

  if (!isJsonContentType(headerValues(req.rawHeaders, 'content-type'))) {
    return fail(validation('CONTENT_TYPE', 'Content-Type must be application/json'));
  }
  const params = parseSessionRequest(req.rawUrl, req.body);
  if (isServiceError(params)) return fail(params);
  facts.arnsFrom = params.arnsFrom;

  const anchorArn: Arn = params.arns.trustAnchor;
  if (auth.region !== anchorArn.region) {
    return fail(
      accessDenied(
        'SCOPE_REGION_MISMATCH',
        `Credential should be scoped to a valid region: the trust anchor is in ${anchorArn.region}, the signature is scoped to '${auth.region}'`,
      ),
    );
  }
  const ta = findTrustAnchor(ctx.config, params.trustAnchorArn);
  if (isServiceError(ta)) return fail(ta);

  const leafProblem = checkEndEntity(auth.leaf, ctx.now);
  if (leafProblem) return fail(leafProblem);
  const chain = buildChain(auth.leaf, auth.intermediates, anchorCertificates(ta, ctx.anchorCache), ta.arn, ctx.now);
  if (isServiceError(chain)) return fail(chain);

  const grant = authorize(ctx.config, params, ctx.shortLivedSeconds);
  if (isServiceError(grant)) return fail(grant);

  const input: Parameters<typeof issueCredentials>[0] = {
    role: params.arns.role,
    roleArn: params.roleArn,
    profileArn: params.profileArn,
    trustAnchor: anchorArn,
    trustAnchorArn: params.trustAnchorArn,
    leafSubject: auth.leaf.subject,
    leafCommonName: auth.leaf.commonName,
    serialHex: auth.leaf.serialHex,
    serialDecimal: auth.leaf.serialDecimal,
    durationSeconds: grant.durationSeconds,
    now: ctx.now,
  };
  if (grant.roleSessionName !== undefined) input.roleSessionName = grant.roleSessionName;
  const { issued, body } = issueCredentials(input, ctx.random);
  return { ok: true, body, issued, facts };
}
