/**
 * The HTTP transport for CreateSession: one keep-alive connection pool per configuration, TLS
 * verification on unless explicitly turned off, extra trusted CAs added to (not replacing) the
 * system roots, HTTPS_PROXY/NO_PROXY honoured, and connect and total timeouts. Network and TLS
 * failures come back as typed AgentErrors saying whether a retry can help. This is the edge that
 * tests may replace with a fake.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates } from 'node:tls';
import { EnvHttpProxyAgent, request } from 'undici';
import { AgentError } from '../errors.js';

export interface HttpReply {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

export interface Transport {
  post(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<HttpReply>;
  close(): Promise<void>;
}

export interface TransportOptions {
  /** Extra PEM CA certificates to trust (a file path). */
  caBundle?: string;
  /** Turns TLS verification off; only when the user asked for it explicitly. */
  noVerifySsl?: boolean;
  connectTimeoutMs?: number;
  /** Whole request, connect to last byte. */
  totalTimeoutMs?: number;
  userAgent?: string;
}

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

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  const top = (e as { code?: unknown } | undefined)?.code;
  return typeof top === 'string' ? top : undefined;
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
  const code = errorCode(e) ?? 'unknown';
  const detail = e instanceof Error ? e.message : String(e);
  if (TLS_CODES.has(code) || /certificate|SSL|TLS/i.test(code)) {
    return new AgentError('TLS', `TLS connection to ${host} failed: ${code} (${detail})`, {
      cause: e,
      retryable: false,
      hint: 'if the endpoint uses a private CA, pass --ca-bundle (ca_bundle: in the schedule) or set AWS_CA_BUNDLE; check the endpoint URL',
    });
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED') {
    return new AgentError('TIMEOUT', `request to ${host} timed out`, {
      cause: e,
      retryable: true,
      hint: 'check network reachability of the endpoint and any proxy (HTTPS_PROXY / NO_PROXY)',
    });
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
    hint: 'check network reachability of the endpoint and any proxy (HTTPS_PROXY / NO_PROXY)',
  });
}

export function readCaBundle(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String(code ?? e);
    throw new AgentError('FILE_UNREADABLE', `cannot read CA bundle ${path}: ${why}`, {
      cause: e,
      hint: 'point --ca-bundle / ca_bundle: / AWS_CA_BUNDLE at a readable PEM file',
    });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new AgentError('CERTIFICATE_INVALID', `CA bundle ${path} holds no PEM certificate`, {
      hint: 'the CA bundle must be PEM (-----BEGIN CERTIFICATE-----)',
    });
  }
  return pem;
}

export class UndiciTransport implements Transport {
  private readonly dispatcher: EnvHttpProxyAgent;
  private readonly totalTimeoutMs: number;
  private readonly userAgent: string;

  constructor(o: TransportOptions = {}) {
    // One secure context for every connection: building it parses the whole CA store, which cost
    // ~30 ms of CPU per new connection when left to tls.connect (measured in the benchmarks).
    const secureContext = createSecureContext(o.caBundle ? { ca: [...rootCertificates, readCaBundle(o.caBundle)] } : {});
    const tls = { secureContext, rejectUnauthorized: !o.noVerifySsl, timeout: o.connectTimeoutMs ?? 10_000 };
    this.totalTimeoutMs = o.totalTimeoutMs ?? 30_000;
    this.userAgent = o.userAgent ?? 'rolesanywhere-agent';
    this.dispatcher = new EnvHttpProxyAgent({
      connect: tls,
      requestTls: tls,
      keepAliveTimeout: 30_000,
      headersTimeout: this.totalTimeoutMs,
      bodyTimeout: this.totalTimeoutMs,
    } as ConstructorParameters<typeof EnvHttpProxyAgent>[0]);
  }

  async post(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<HttpReply> {
    // A timer cleared when the call ends: AbortSignal.timeout() would leave one armed per request
    // for the full 30 s, a thousand of them after a cold fill.
    const timer = new AbortController();
    const timeout = timer.signal;
    const handle = setTimeout(() => timer.abort(new Error('timeout')), this.totalTimeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await request(url, {
        method: 'POST',
        headers: { ...headers, 'user-agent': this.userAgent },
        body,
        dispatcher: this.dispatcher,
        signal: combined,
      });
      const text = await res.body.text();
      const out: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(res.headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      return { status: res.statusCode, headers: out, body: text };
    } catch (e) {
      if (timeout.aborted && !signal?.aborted) {
        throw new AgentError('TIMEOUT', `request to ${new URL(url).host} took longer than ${this.totalTimeoutMs} ms`, {
          cause: e,
          retryable: true,
          hint: 'check network reachability of the endpoint and any proxy (HTTPS_PROXY / NO_PROXY)',
        });
      }
      throw classifyNetworkError(e, url, signal);
    } finally {
      clearTimeout(handle);
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
