/**
 * One POST over a connection the pool chose, under the transport's limits: a connect timeout for a
 * new socket (TCP and TLS), a total timeout from start to last byte, cancellation by the caller's
 * signal, and a cap on the reply's size. Whatever ends the request first settles it once; the other
 * timers and the listener are cleared, and a tunnel still being opened for it is cancelled too.
 */
import type { Agent as HttpAgent } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { AgentError } from '../errors.js';
import { onAbort } from '../time/abort.js';
import { classifyNetworkError, NETWORK_HINT, networkError, replyTooLarge } from './network-errors.js';
import { TUNNEL_CANCEL, type TunnelCancel } from './proxy.js';
import type { HttpReply } from './transport.js';

/** A CreateSession reply is a few KiB; a larger one is refused before it fills memory. */
export const MAX_REPLY_BYTES = 1024 * 1024;

/** The limits every request of one transport runs under; built once per transport. */
export interface RequestLimits {
  readonly connectTimeoutMs: number;
  readonly totalTimeoutMs: number;
  readonly userAgent: string;
}

/** Where the pool sends this request: its agent, and whether that agent opens CONNECT tunnels. */
export interface Route {
  agent: HttpAgent | HttpsAgent;
  plain: boolean;
  tunnelled: boolean;
}

/**
 * Where one URL's requests go, worked out once per URL by the transport (the URL parse, the host
 * without IPv6 brackets, the path and the route each cost a few µs per request otherwise).
 */
export interface Target {
  readonly u: URL;
  readonly url: string;
  readonly host: string;
  readonly port: string | number;
  readonly path: string;
  readonly route: Route;
}

export function targetFor(url: string, route: (u: URL) => Route): Target {
  const u = new URL(url);
  const r = route(u);
  return { u, url, host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port || (r.plain ? 80 : 443), path: `${u.pathname}${u.search}`, route: r };
}

/**
 * The request's headers as node's raw list (name, value, name, value…): node then writes them
 * without building its own header map, and still refuses an invalid name or value. The caller's
 * user-agent and content-length, in any case, give way to the transport's; node adds no Host
 * header to a raw list, so the URL's is added when the caller gave none (a signed request has one).
 */
function rawHeaders(headers: Record<string, string>, target: Target, userAgent: string, length: number): string[] {
  const out: string[] = [];
  let host = false;
  for (const k in headers) {
    const lower = k.toLowerCase();
    if (lower === 'user-agent' || lower === 'content-length') continue;
    if (lower === 'host') host = true;
    out.push(k, headers[k]!);
  }
  if (!host) out.push('host', target.u.host);
  out.push('user-agent', userAgent, 'content-length', String(length));
  return out;
}

/** The reply's headers, a repeated one (node gives set-cookie as a list) joined with ", ". */
function replyHeaders(h: NodeJS.Dict<string | string[]>): Record<string, string | undefined> {
  for (const k in h) {
    if (typeof h[k] !== 'object') continue;
    const out: Record<string, string | undefined> = {};
    for (const [name, v] of Object.entries(h)) out[name] = Array.isArray(v) ? v.join(', ') : v;
    return out;
  }
  return h as Record<string, string | undefined>;
}

/**
 * Timeouts and cancellation are two timers and one callback on the caller's signal (time/abort.ts):
 * an AbortController joined with AbortSignal.any() per request cost ~100 µs of CPU, about as much
 * as the rest of the request (2000 keep-alive requests against the emulator).
 */
export function sendRequest(target: Target, limits: RequestLimits, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<HttpReply> {
  const { u, url, route } = target;
  return new Promise<HttpReply>((resolve, reject) => {
    const payload = Buffer.from(body, 'utf8');
    const plain = route.plain;
    let connectTimer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (e: unknown, reply?: HttpReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(totalTimer);
      clearTimeout(connectTimer);
      unsubscribe?.();
      if (reply) resolve(reply);
      else reject(classifyNetworkError(e, url, signal));
    };
    // Lets this request's timeout or cancellation end a tunnel still being opened for it.
    const tunnel: TunnelCancel = {};
    const req = (plain ? httpRequest : httpsRequest)(
      {
        host: target.host,
        port: target.port,
        path: target.path,
        method: 'POST',
        agent: route.agent,
        headers: rawHeaders(headers, target, limits.userAgent, payload.length),
        ...(route.tunnelled ? { [TUNNEL_CANCEL]: tunnel } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let ended = false;
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_REPLY_BYTES) stop(replyTooLarge(u.host, MAX_REPLY_BYTES));
          else chunks.push(c);
        });
        res.on('end', () => {
          ended = true;
          finish(undefined, { status: res.statusCode ?? 0, headers: replyHeaders(res.headers), body: Buffer.concat(chunks).toString('utf8') });
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
    let unsubscribe: (() => void) | undefined;
    const totalTimer = setTimeout(
      () => stop(new AgentError('TIMEOUT', `request to ${u.host} took longer than ${limits.totalTimeoutMs} ms`, { retryable: true, hint: NETWORK_HINT })),
      limits.totalTimeoutMs,
    );
    if (signal) unsubscribe = onAbort(signal, () => stop(signal.reason));
    req.on('error', finish);
    // The connect timeout covers TCP and the TLS handshake of a new socket; a reused one is ready,
    // and a tunnel arrives ready (the tunnel agent timed its opening).
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(() => stop(networkError(`connecting took longer than ${limits.connectTimeoutMs} ms`, 'ETIMEDOUT')), limits.connectTimeoutMs);
      socket.once(plain ? 'connect' : 'secureConnect', () => clearTimeout(connectTimer));
    });
    req.end(payload);
  });
}
