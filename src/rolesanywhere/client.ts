/**
 * The CreateSession client: validates the request, signs it, sends it, and retries what can be
 * retried (throttling, 5xx, resets, timeouts) with exponential backoff and full jitter, bounded by
 * an attempt count and a deadline. Everything else fails at once with a typed error and a hint.
 */
import { AgentError } from '../errors.js';
import type { Signer } from '../keys/signer.js';
import type { Clock } from '../time/clock.js';
import { abortableSleep } from '../time/abort.js';
import { systemScheduler } from '../time/scheduler.js';
import { backoffCeiling } from '../time/backoff.js';
import { MAX_DURATION_SECONDS, MIN_DURATION_SECONDS, validRoleSessionName, validateArns } from './arn.js';
import { resolveEndpoint, type ResolvedEndpoint } from './endpoint.js';
import { buildSignedRequest, type SessionRequest, type SignedRequest } from './request.js';
import { parseSessionReply, type SessionResult } from './reply.js';
import type { Transport } from './transport.js';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Stop retrying when the next attempt would start after this many ms from the first. */
  deadlineMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({ maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 5_000, deadlineMs: 30_000 });

export interface ClientDeps {
  transport: Transport;
  clock: Clock;
  /** [0,1) source for jitter; injected for tests. */
  random?: () => number;
  /** Waits ms, or rejects when signal aborts; injected so tests don't sleep. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Receives --debug detail (no secrets): canonical request, string to sign, attempts. */
  debug?: (msg: string) => void;
}

export interface CreateSessionOptions extends SessionRequest {
  region?: string;
  endpoint?: string;
  fips?: boolean;
  env?: NodeJS.ProcessEnv;
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  /** Used in messages, e.g. `profile "prod"`. */
  context?: string;
}

export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return abortableSleep(systemScheduler, ms, signal);
}

/** The wait after failed attempt `attempt` (from 0) of one call: full jitter, whole milliseconds (bench/fleet.ts uses it too). */
export function callRetryDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  // Full jitter under the exponential ceiling, without an argument object: the fleet simulation calls this millions of times
  return Math.floor(random() * backoffCeiling(attempt + 1, policy.baseDelayMs, policy.maxDelayMs));
}

/** Checks the request's own fields; returns the endpoint it will go to. Throws ARN_INVALID/ARGUMENT_INVALID. */
export function prepareSession(o: CreateSessionOptions): ResolvedEndpoint {
  const ctx = o.context ? `${o.context}: ` : '';
  const { issues, arns } = validateArns(o.trustAnchorArn, o.profileArn, o.roleArn);
  if (issues.length || !arns) {
    throw new AgentError('ARN_INVALID', `${ctx}${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, {
      hint: 'copy the ARNs from the IAM Roles Anywhere console or `aws rolesanywhere list-trust-anchors` / `list-profiles`',
    });
  }
  if (!Number.isInteger(o.durationSeconds) || o.durationSeconds < MIN_DURATION_SECONDS || o.durationSeconds > MAX_DURATION_SECONDS) {
    throw new AgentError('ARGUMENT_INVALID', `${ctx}session duration ${o.durationSeconds} s is outside ${MIN_DURATION_SECONDS}–${MAX_DURATION_SECONDS} s`, {
      hint: 'use a whole number of seconds from 900 (15 min) to 43200 (12 h)',
    });
  }
  if (o.roleSessionName !== undefined && !validRoleSessionName(o.roleSessionName)) {
    throw new AgentError('ARGUMENT_INVALID', `${ctx}role session name "${o.roleSessionName}" is invalid`, {
      hint: 'use 2–64 characters of letters, digits and + = , . @ _ -',
    });
  }
  return resolveEndpoint({
    region: o.region ?? arns.trustAnchor.region,
    partition: arns.trustAnchor.partition,
    fips: o.fips ?? false,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    env: o.env ?? {},
  });
}

/**
 * `endpoint`: what prepareSession(o) returned for these same options, for a caller that makes the
 * same call again and again (the agent, once per refresh): the ARN and endpoint checks then run
 * once per profile instead of once per call (~2 % of the agent's CPU per refresh).
 */
export async function createSession(signer: Signer, o: CreateSessionOptions, deps: ClientDeps, endpoint: ResolvedEndpoint = prepareSession(o)): Promise<SessionResult> {
  const policy = o.retry ? { ...DEFAULT_RETRY, ...o.retry } : DEFAULT_RETRY;
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? defaultSleep;
  const context = o.context ?? `role ${o.roleArn}`;
  const started = deps.clock.now();
  const session: SessionRequest = {
    trustAnchorArn: o.trustAnchorArn,
    profileArn: o.profileArn,
    roleArn: o.roleArn,
    durationSeconds: o.durationSeconds,
    ...(o.roleSessionName !== undefined ? { roleSessionName: o.roleSessionName } : {}),
  };
  for (let attempt = 0; ; attempt++) {
    if (o.signal?.aborted) throw new AgentError('ABORTED', `${context}: cancelled`);
    // Signed anew per attempt: X-Amz-Date must be fresh.
    const req: SignedRequest = await buildSignedRequest(endpoint.url, endpoint.signingRegion, session, signer, deps.clock.now());
    if (deps.debug) {
      deps.debug(`POST ${req.url} (endpoint from ${endpoint.source}, signing region ${endpoint.signingRegion}, attempt ${attempt + 1})`);
      deps.debug(`canonical request:\n${req.canonicalRequest}`);
      deps.debug(`string to sign:\n${req.stringToSign}`);
    }
    let error: AgentError;
    try {
      const reply = await deps.transport.post(req.url, req.headers, req.body, o.signal);
      if (deps.debug) deps.debug(`reply ${reply.status}${reply.headers['x-amzn-requestid'] ? ` request id ${reply.headers['x-amzn-requestid']}` : ''}`);
      return parseSessionReply(reply, deps.clock.now(), context, o.durationSeconds);
    } catch (e) {
      error = e instanceof AgentError ? e : new AgentError('INTERNAL', `${context}: ${String(e)}`, { cause: e });
      if (error.code === 'NETWORK' || error.code === 'TIMEOUT' || error.code === 'TLS' || error.code === 'ABORTED') {
        error = new AgentError(error.code, `${context}: ${error.message}`, {
          cause: error.cause,
          retryable: error.retryable,
          ...(error.hint ? { hint: error.hint } : {}),
        });
      }
    }
    if (!error.retryable || o.signal?.aborted) throw error;
    const delay = callRetryDelay(attempt, policy, random);
    const elapsed = deps.clock.now() - started;
    if (attempt + 1 >= policy.maxAttempts || elapsed + delay > policy.deadlineMs) {
      throw new AgentError(error.code, `${error.message} (gave up after ${attempt + 1} attempt${attempt ? 's' : ''})`, {
        cause: error.cause ?? error,
        retryable: true,
        ...(error.hint ? { hint: error.hint } : {}),
        ...(error.status !== undefined ? { status: error.status } : {}),
        ...(error.requestId ? { requestId: error.requestId } : {}),
      });
    }
    deps.debug?.(`${error.code}: retrying in ${delay} ms`);
    await sleep(delay, o.signal);
  }
}
