/**
 * The HTTP transport for CreateSession: one keep-alive connection pool per configuration, TLS
 * verification on unless explicitly turned off, extra trusted CAs added to (not replacing) the
 * system roots, HTTPS_PROXY/NO_PROXY honoured (HTTP_PROXY is for http:// URLs), and a connect
 * timeout and a total timeout on every request, direct or through a proxy. Network and TLS
 * failures come back as typed AgentErrors saying whether a retry can help. This is the edge that
 * tests may replace with a fake.
 *
 * Everything is node:https (node:http for a loopback http:// endpoint, which the schedule allows
 * for the emulator); through a proxy, each connection is a CONNECT tunnel opened by proxy.ts.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { AgentError } from '../errors.js';
import { bypassesProxy, proxySettings, TUNNEL_CANCEL, TunnelAgent, type ProxySettings, type TunnelCancel } from './proxy.js';

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
  /** Connect directly, ignoring HTTPS_PROXY/NO_PROXY (`with_proxy: false`). */
  direct?: boolean;
}

export { proxySettings, type ProxySettings } from './proxy.js';

/** Until TCP and TLS are up (through a proxy: its answer to CONNECT and the endpoint's TLS too). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** One request, connect to last byte. */
export const DEFAULT_TOTAL_TIMEOUT_MS = 30_000;
/** Idle keep-alive connections (and tunnels) close after this long. */
const IDLE_TIMEOUT_MS = 30_000;

/** The transport for these options and environment; a bad proxy variable throws CONFIG_INVALID now. */
export function makeTransport(o: TransportOptions, env: NodeJS.ProcessEnv): HttpsTransport {
  return new HttpsTransport(o, o.direct ? undefined : proxySettings(env));
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

const NETWORK_HINT = 'check network reachability of the endpoint and any proxy (HTTPS_PROXY / NO_PROXY)';

/** A CreateSession reply is a few KiB; a larger one is refused before it fills memory. */
export const MAX_REPLY_BYTES = 1024 * 1024;

function replyTooLarge(host: string): AgentError {
  return new AgentError('BAD_RESPONSE', `the reply from ${host} is larger than ${MAX_REPLY_BYTES / 1024} KiB; a CreateSession reply is a few KiB`, {
    retryable: false,
    hint: 'check the endpoint URL (endpoint: / --endpoint / AWS_ENDPOINT_URL_ROLESANYWHERE): it does not answer like IAM Roles Anywhere',
  });
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

/**
 * One secure context for every connection: building it parses the whole CA store, which cost ~30 ms
 * of CPU per new connection when left to tls.connect (measured in the benchmarks).
 */
function secureContextFor(o: TransportOptions): SecureContext {
  if (!o.caBundle) return createSecureContext({});
  const bundle = readCaBundle(o.caBundle);
  const context = createSecureContext({});
  // Added to node's own root store (copied natively, the roots parsed once), not rebuilt from
  // rootCertificates in JavaScript: that took ~65 ms, a fifth of a credential-process call. The
  // native handle is not public API, so a Node without it gets the documented (slower) way.
  const native = (context as SecureContext & { context?: { addCACert?: (pem: string) => void } }).context;
  if (typeof native?.addCACert === 'function') {
    native.addCACert(bundle);
    return context;
  }
  return createSecureContext({ ca: [...rootCertificates, bundle] });
}

function networkError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * node:https with keep-alive agents: one for direct connections, one whose connections are CONNECT
 * tunnels when the environment names a proxy (hosts in NO_PROXY go direct). An http:// URL (allowed
 * only on loopback, for the emulator) goes over node:http with its own keep-alive agent, never
 * through the proxy.
 */
export class HttpsTransport implements Transport {
  private readonly agent: HttpsAgent;
  private readonly plainAgent: HttpAgent;
  private readonly tunnels: TunnelAgent | undefined;
  private readonly totalTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly userAgent: string;

  /** `proxy` is what proxySettings() found; undefined connects directly. */
  constructor(
    o: TransportOptions = {},
    readonly proxy?: ProxySettings,
  ) {
    this.totalTimeoutMs = o.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS;
    this.connectTimeoutMs = o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.userAgent = o.userAgent ?? 'rolesanywhere-agent';
    // Built now, so that a bad CA bundle is reported at once rather than at the first request.
    const secureContext = secureContextFor(o);
    // The idle timer is the socket's own: nothing to arm per request.
    this.agent = new HttpsAgent({ keepAlive: true, timeout: IDLE_TIMEOUT_MS, secureContext, rejectUnauthorized: !o.noVerifySsl });
    this.plainAgent = new HttpAgent({ keepAlive: true, timeout: IDLE_TIMEOUT_MS });
    // An https:// proxy is trusted, or not, as the endpoint is: the same CA bundle and opt-out.
    this.tunnels = proxy
      ? new TunnelAgent({ proxy, secureContext, rejectUnauthorized: !o.noVerifySsl, connectTimeoutMs: this.connectTimeoutMs, idleTimeoutMs: IDLE_TIMEOUT_MS })
      : undefined;
  }

  /**
   * Timeouts and cancellation are two timers and one listener on the request itself: an
   * AbortController joined with AbortSignal.any() per request cost ~100 µs of CPU, about as much as
   * the rest of the request (2000 keep-alive requests against the emulator).
   */
  post(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<HttpReply> {
    if (signal?.aborted) return Promise.reject(classifyNetworkError(signal.reason, url, signal));
    return new Promise<HttpReply>((resolve, reject) => {
      const u = new URL(url);
      const payload = Buffer.from(body, 'utf8');
      let connectTimer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (e: unknown, reply?: HttpReply) => {
        if (settled) return;
        settled = true;
        clearTimeout(totalTimer);
        clearTimeout(connectTimer);
        signal?.removeEventListener('abort', onAbort);
        if (reply) resolve(reply);
        else reject(classifyNetworkError(e, url, signal));
      };
      const plain = u.protocol === 'http:';
      const tunnels = !plain && this.tunnels && !bypassesProxy(u, this.proxy!.noProxy) ? this.tunnels : undefined;
      // Lets this request's timeout or cancellation end a tunnel still being opened for it.
      const tunnel: TunnelCancel = {};
      const req = (plain ? httpRequest : httpsRequest)(
        {
          host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: u.port || (plain ? 80 : 443),
          path: `${u.pathname}${u.search}`,
          method: 'POST',
          agent: plain ? this.plainAgent : (tunnels ?? this.agent),
          headers: { ...headers, 'user-agent': this.userAgent, 'content-length': String(payload.length) },
          ...(tunnels ? { [TUNNEL_CANCEL]: tunnel } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let ended = false;
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_REPLY_BYTES) stop(replyTooLarge(u.host));
            else chunks.push(c);
          });
          res.on('end', () => {
            ended = true;
            const out: Record<string, string | undefined> = {};
            for (const [k, v] of Object.entries(res.headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
            finish(undefined, { status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', finish);
          res.on('close', () => {
            if (!ended) finish(networkError('the connection closed before the reply was complete', 'ECONNRESET'));
          });
        },
      );
      const stop = (e: unknown) => {
        finish(e);
        tunnel.cancel?.(e instanceof AgentError ? e : new AgentError('ABORTED', `request to ${u.host} was cancelled`));
        req.destroy();
      };
      const onAbort = () => stop(signal?.reason);
      const totalTimer = setTimeout(
        () => stop(new AgentError('TIMEOUT', `request to ${u.host} took longer than ${this.totalTimeoutMs} ms`, { retryable: true, hint: NETWORK_HINT })),
        this.totalTimeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', finish);
      // The connect timeout covers TCP and the TLS handshake of a new socket; a reused one is ready,
      // and a tunnel arrives ready (the tunnel agent timed its opening).
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => stop(networkError(`connecting took longer than ${this.connectTimeoutMs} ms`, 'ETIMEDOUT')), this.connectTimeoutMs);
        socket.once(plain ? 'connect' : 'secureConnect', () => clearTimeout(connectTimer));
      });
      req.end(payload);
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.plainAgent.destroy();
    this.tunnels?.destroy();
  }
}
