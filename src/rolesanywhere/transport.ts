/**
 * The HTTP transport for CreateSession, the edge that tests may replace with a fake: what it is
 * given (TransportOptions) and what it returns (HttpReply, or a typed AgentError saying whether a
 * retry can help), and makeTransport, which builds the real one for an environment.
 *
 * The real one is node:https (node:http for a loopback http:// endpoint, which the schedule allows
 * for the emulator), in one file per concern:
 * - https-transport.ts  the keep-alive pool and which connection a request takes (direct, through
 *                       the proxy HTTPS_PROXY names, or around it for NO_PROXY hosts);
 * - proxy.ts            the proxy settings and the CONNECT tunnels;
 * - tls-context.ts      TLS trust: node's roots plus an optional CA bundle, verification on unless
 *                       explicitly turned off;
 * - send-request.ts     one request: connect and total timeouts, cancellation, reply size cap;
 * - network-errors.ts   network and TLS failures into AgentErrors.
 */
import { HttpsTransport } from './https-transport.js';
import { proxySettings } from './proxy.js';

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

/** The transport for these options and environment; a bad proxy variable throws CONFIG_INVALID now. */
export function makeTransport(o: TransportOptions, env: NodeJS.ProcessEnv): HttpsTransport {
  return new HttpsTransport(o, o.direct ? undefined : proxySettings(env));
}
