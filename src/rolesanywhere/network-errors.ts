/**
 * How a failed request becomes an AgentError: TLS failures are not retryable and point at the CA
 * bundle, timeouts, DNS and connection failures are, and a cancelled request is ABORTED whatever
 * the socket said. The transport's one mapping from node's error codes to ours.
 */
import { AgentError } from '../errors.js';

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

export const NETWORK_HINT = 'check network reachability of the endpoint and any proxy (HTTPS_PROXY / NO_PROXY)';

export function replyTooLarge(host: string, limitBytes: number): AgentError {
  return new AgentError('BAD_RESPONSE', `the reply from ${host} is larger than ${limitBytes / 1024} KiB; a CreateSession reply is a few KiB`, {
    retryable: false,
    hint: 'check the endpoint URL (endpoint: / --endpoint / AWS_ENDPOINT_URL_ROLESANYWHERE): it does not answer like IAM Roles Anywhere',
  });
}

/** A node-style error with a `code`, for failures the transport detects itself. */
export function networkError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Classifies a thrown network error; exported for tests. */
export function classifyNetworkError(e: unknown, url: string, signal?: AbortSignal): AgentError {
  const host = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  if (signal?.aborted) return new AgentError('ABORTED', `request to ${host} was cancelled`, { cause: e });
  if (e instanceof AgentError) return e;
  const code = errorCode(e) ?? 'unknown';
  const detail = e instanceof Error ? e.message : String(e);
  if (TLS_CODES.has(code) || /certificate|SSL|TLS/i.test(code)) {
    return new AgentError('TLS', `TLS connection to ${host} failed: ${code} (${detail})`, {
      cause: e,
      retryable: false,
      hint: 'if the endpoint uses a private CA, pass --ca-bundle (ca_bundle: in the schedule) or set AWS_CA_BUNDLE; check the endpoint URL',
    });
  }
  if (code === 'ETIMEDOUT' || code === 'ABORT_ERR') {
    return new AgentError('TIMEOUT', `request to ${host} timed out`, { cause: e, retryable: true, hint: NETWORK_HINT });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new AgentError('NETWORK', `cannot resolve ${host} (${code})`, {
      cause: e,
      retryable: true,
      hint: 'check DNS and the region or endpoint URL',
    });
  }
  return new AgentError('NETWORK', `request to ${host} failed: ${code}${detail && !detail.includes(code) ? ` (${detail})` : ''}`, {
    cause: e,
    retryable: true,
    hint: NETWORK_HINT,
  });
}
