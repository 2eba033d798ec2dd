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
 * Timeouts and cancellation are two timers and one callback on the caller's signal (time/abort.ts):
 * an AbortController joined with AbortSignal.any() per request cost ~100 µs of CPU, about as much
 * as the rest of the request (2000 keep-alive requests against the emulator).
 */
export function sendRequest(
  u: URL,
  url: string,
  route: Route,
  limits: RequestLimits,
  headers: Record<string, string>,
  body: string,
  signal?: AbortSignal,
): Promise<HttpReply> {
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
        host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: u.port || (plain ? 80 : 443),
        path: `${u.pathname}${u.search}`,
        method: 'POST',
        agent: route.agent,
        headers: { ...headers, 'user-agent': limits.userAgent, 'content-length': String(payload.length) },
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
