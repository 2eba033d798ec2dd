/**
 * The HTTP transport for CreateSession: one keep-alive connection pool per configuration, TLS
 * verification on unless explicitly turned off, extra trusted CAs added to (not replacing) the
 * system roots, HTTPS_PROXY/NO_PROXY honoured (HTTP_PROXY is for http:// URLs), and connect and
 * total timeouts. Network and TLS failures come back as typed AgentErrors saying whether a retry
 * can help. This is the edge that tests may replace with a fake.
 *
 * Without a proxy in the environment, requests go through node:https (node:http for a loopback
 * http:// endpoint, which the schedule allows for the emulator). With one, they go through
 * undici's EnvHttpProxyAgent (CONNECT tunnels, NO_PROXY), loaded only then: undici costs ~190 ms of
 * start-up and ~20 MB of memory, and ~50 µs more CPU per request than node:https (measured; see
 * docs/benchmarks.md), which every credential-process call and every refresh would otherwise pay.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Dispatcher } from 'undici';
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

/** The proxy settings of an environment that apply to CreateSession, lower-case names first. */
export interface ProxySettings {
  httpsProxy: string;
  noProxy: string;
}

/**
 * The proxy an environment asks for, or undefined when it names none (then node:https is used).
 * As for curl, Go and the AWS CLI, an https:// URL goes through HTTPS_PROXY only: HTTP_PROXY is for
 * http:// URLs, and the only http:// endpoints allowed are on loopback (the emulator), which go
 * direct. A proxy without a scheme is read as http://, as those tools read it. A value that is not
 * an http:// or https:// URL throws CONFIG_INVALID naming the variable, so the user learns it at
 * start rather than as a network error at every refresh; a password in it is never shown.
 */
export function proxySettings(env: NodeJS.ProcessEnv): ProxySettings | undefined {
  const pick = (name: string): [string, string] => {
    for (const n of [name, name.toUpperCase()]) {
      const v = env[n];
      if (v !== undefined) return [n, v];
    }
    return [name.toUpperCase(), ''];
  };
  const httpsProxy = proxyUrl(...pick('https_proxy'));
  return httpsProxy ? { httpsProxy, noProxy: pick('no_proxy')[1] } : undefined;
}

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

function proxyUrl(variable: string, value: string): string {
  if (value === '') return '';
  const scheme = URL_SCHEME.exec(value)?.[0];
  const withScheme = scheme ? value : `http://${value}`;
  const hint = 'set it to http://HOST:PORT (user and password, if any, before an @), or unset it to connect directly';
  let url: URL | undefined;
  try {
    url = new URL(withScheme);
  } catch {
    url = undefined;
  }
  if (url && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AgentError('CONFIG_INVALID', `${variable} is a ${url.protocol} URL; only http:// and https:// proxies are supported`, { hint });
  }
  if (!url || url.hostname === '') {
    // Everything between the scheme and the last @ may be a user and password.
    const at = value.lastIndexOf('@');
    const shown = at >= (scheme ?? '').length ? `${scheme ?? ''}***${value.slice(at)}` : value;
    throw new AgentError('CONFIG_INVALID', `${variable} is not a proxy URL: "${shown}"`, { hint });
  }
  return withScheme;
}

/** The transport for these options: node:https, or undici when the environment names a proxy. */
export function makeTransport(o: TransportOptions, env: NodeJS.ProcessEnv): Transport {
  const proxy = proxySettings(env);
  return proxy ? new ProxyTransport(o, proxy) : new HttpsTransport(o);
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
  // undici's answer when the proxy does not open the CONNECT tunnel (with UND_ERR_ABORTED, like a timeout).
  const proxyStatus = /^Proxy response \((\d{3})\) !== 200/.exec(detail)?.[1];
  if (proxyStatus) return proxyRefusal(Number(proxyStatus), host, e);
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED') {
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

/** The proxy answered CONNECT with `status`: credentials (407) and refusals (4xx) are not retried; 5xx are. */
function proxyRefusal(status: number, host: string, cause: unknown): AgentError {
  if (status === 407) {
    return new AgentError('NETWORK', `the proxy refused to open a tunnel to ${host}: 407 Proxy Authentication Required`, {
      cause,
      hint: "put the proxy user and password in HTTPS_PROXY (http://USER:PASSWORD@HOST:PORT, special characters percent-encoded), and check them with the proxy's owner",
    });
  }
  const retryable = status >= 500;
  return new AgentError('NETWORK', `the proxy ${retryable ? 'could not' : 'refused to'} open a tunnel to ${host}: ${status}`, {
    cause,
    retryable,
    hint: retryable ? NETWORK_HINT : `ask the proxy's owner to allow CONNECT to ${host}, or list the host in NO_PROXY if it is reachable directly`,
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
  const context = createSecureContext({});
  // Added to node's own root store (copied natively, the roots parsed once), not rebuilt from
  // rootCertificates in JavaScript: that took ~65 ms, a fifth of a credential-process call.
  if (o.caBundle) (context as SecureContext & { context: { addCACert(pem: string): void } }).context.addCACert(readCaBundle(o.caBundle));
  return context;
}

/**
 * Runs one request under the total timeout: a timer cleared when the call ends (AbortSignal.timeout()
 * would leave one armed per request for the full 30 s, a thousand of them after a cold fill), joined
 * with the caller's signal. Errors come back classified.
 */
async function withTimeout(url: string, totalTimeoutMs: number, signal: AbortSignal | undefined, send: (signal: AbortSignal) => Promise<HttpReply>): Promise<HttpReply> {
  const timer = new AbortController();
  const timeout = timer.signal;
  const handle = setTimeout(() => timer.abort(new Error('timeout')), totalTimeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    return await send(combined);
  } catch (e) {
    if (timeout.aborted && !signal?.aborted) {
      throw new AgentError('TIMEOUT', `request to ${new URL(url).host} took longer than ${totalTimeoutMs} ms`, { cause: e, retryable: true, hint: NETWORK_HINT });
    }
    if (e instanceof AgentError) throw e;
    throw classifyNetworkError(e, url, signal);
  } finally {
    clearTimeout(handle);
  }
}

function networkError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * node:https with a keep-alive agent: the transport when no proxy is configured. An http:// URL
 * (allowed only on loopback, for the emulator) goes over node:http with its own keep-alive agent.
 */
export class HttpsTransport implements Transport {
  private readonly agent: HttpsAgent;
  private readonly plainAgent: HttpAgent;
  private readonly totalTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly userAgent: string;

  constructor(o: TransportOptions = {}) {
    this.totalTimeoutMs = o.totalTimeoutMs ?? 30_000;
    this.connectTimeoutMs = o.connectTimeoutMs ?? 10_000;
    this.userAgent = o.userAgent ?? 'rolesanywhere-agent';
    // Idle sockets close after 30 s, as undici's keep-alive timeout did; the timer is the socket's own.
    this.agent = new HttpsAgent({ keepAlive: true, timeout: 30_000, secureContext: secureContextFor(o), rejectUnauthorized: !o.noVerifySsl });
    this.plainAgent = new HttpAgent({ keepAlive: true, timeout: 30_000 });
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
        else reject(e instanceof AgentError ? e : classifyNetworkError(e, url, signal));
      };
      const plain = u.protocol === 'http:';
      const req = (plain ? httpRequest : httpsRequest)(
        {
          host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: u.port || (plain ? 80 : 443),
          path: `${u.pathname}${u.search}`,
          method: 'POST',
          agent: plain ? this.plainAgent : this.agent,
          headers: { ...headers, 'user-agent': this.userAgent, 'content-length': String(payload.length) },
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
        req.destroy();
      };
      const onAbort = () => stop(signal?.reason);
      const totalTimer = setTimeout(
        () => stop(new AgentError('TIMEOUT', `request to ${u.host} took longer than ${this.totalTimeoutMs} ms`, { retryable: true, hint: NETWORK_HINT })),
        this.totalTimeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', finish);
      // The connect timeout covers TCP and the TLS handshake of a new socket; a reused one is ready.
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
  }
}

/** undici's EnvHttpProxyAgent, loaded on first use: the transport when the environment names a proxy. */
export class ProxyTransport implements Transport {
  private readonly totalTimeoutMs: number;
  private readonly userAgent: string;
  private undici: Promise<{ dispatcher: Dispatcher; request: typeof import('undici').request }> | undefined;
  /** Built now, so that a bad CA bundle is reported at once rather than at the first request. */
  private readonly secureContext: SecureContext;

  constructor(
    private readonly o: TransportOptions,
    private readonly proxy: ProxySettings,
  ) {
    this.totalTimeoutMs = o.totalTimeoutMs ?? 30_000;
    this.userAgent = o.userAgent ?? 'rolesanywhere-agent';
    this.secureContext = secureContextFor(o);
  }

  private load() {
    this.undici ??= import('undici').then(({ EnvHttpProxyAgent, request }) => {
      const tls = { secureContext: this.secureContext, rejectUnauthorized: !this.o.noVerifySsl, timeout: this.o.connectTimeoutMs ?? 10_000 };
      const dispatcher = new EnvHttpProxyAgent({
        ...this.proxy,
        httpProxy: '', // not undefined: undici would read HTTP_PROXY from process.env
        connect: tls,
        requestTls: tls,
        // An https:// proxy is trusted, or not, as the endpoint is: the same CA bundle and opt-out.
        proxyTls: tls,
        keepAliveTimeout: 30_000,
        headersTimeout: this.totalTimeoutMs,
        bodyTimeout: this.totalTimeoutMs,
      } as ConstructorParameters<typeof EnvHttpProxyAgent>[0]);
      return { dispatcher, request };
    });
    return this.undici;
  }

  post(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<HttpReply> {
    return withTimeout(url, this.totalTimeoutMs, signal, async (combined) => {
      const { dispatcher, request } = await this.load();
      const res = await request(url, { method: 'POST', headers: { ...headers, 'user-agent': this.userAgent }, body, dispatcher, signal: combined });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) {
          res.body.destroy();
          throw replyTooLarge(new URL(url).host);
        }
        chunks.push(chunk);
      }
      const text = Buffer.concat(chunks).toString('utf8');
      const out: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(res.headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      return { status: res.statusCode, headers: out, body: text };
    });
  }

  async close(): Promise<void> {
    if (this.undici) await (await this.undici).dispatcher.close();
  }
}
