/**
 * The connection pool behind the Transport: keep-alive agents, one for direct https:// connections,
 * one whose connections are CONNECT tunnels when the environment names a proxy (hosts in NO_PROXY
 * go direct), and one for an http:// URL (allowed only on loopback, for the emulator), which never
 * goes through the proxy. Each request picks its agent here and is sent by send-request.ts.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { classifyNetworkError } from './network-errors.js';
import { bypassesProxy, TunnelAgent, type ProxySettings } from './proxy.js';
import { sendRequest, targetFor, type RequestLimits, type Route, type Target } from './send-request.js';
import { secureContextFor } from './tls-context.js';
import type { HttpReply, Transport, TransportOptions } from './transport.js';

/** Until TCP and TLS are up (through a proxy: its answer to CONNECT and the endpoint's TLS too). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** One request, connect to last byte. */
export const DEFAULT_TOTAL_TIMEOUT_MS = 30_000;
/** Idle keep-alive connections (and tunnels) close after this long. */
const IDLE_TIMEOUT_MS = 30_000;
/** Parsed targets kept per transport; an agent has one endpoint per region or two, so this is plenty. */
const MAX_TARGETS = 64;

export class HttpsTransport implements Transport {
  private readonly direct: Route;
  private readonly plain: Route;
  private readonly tunnels: Route | undefined;
  private readonly limits: RequestLimits;
  private readonly targets = new Map<string, Target>();

  /** `proxy` is what proxySettings() found; undefined connects directly. */
  constructor(
    o: TransportOptions = {},
    readonly proxy?: ProxySettings,
  ) {
    this.limits = {
      totalTimeoutMs: o.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS,
      connectTimeoutMs: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      userAgent: o.userAgent ?? 'rolesanywhere-agent',
    };
    // Built now, so that a bad CA bundle is reported at once rather than at the first request.
    const secureContext = secureContextFor(o.caBundle);
    // The idle timer is the socket's own: nothing to arm per request.
    this.direct = {
      agent: new HttpsAgent({ keepAlive: true, timeout: IDLE_TIMEOUT_MS, secureContext, rejectUnauthorized: !o.noVerifySsl }),
      plain: false,
      tunnelled: false,
    };
    this.plain = { agent: new HttpAgent({ keepAlive: true, timeout: IDLE_TIMEOUT_MS }), plain: true, tunnelled: false };
    // An https:// proxy is trusted, or not, as the endpoint is: the same CA bundle and opt-out.
    this.tunnels = proxy
      ? {
          agent: new TunnelAgent({
            proxy,
            secureContext,
            rejectUnauthorized: !o.noVerifySsl,
            connectTimeoutMs: this.limits.connectTimeoutMs,
            idleTimeoutMs: IDLE_TIMEOUT_MS,
          }),
          plain: false,
          tunnelled: true,
        }
      : undefined;
  }

  post(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<HttpReply> {
    if (signal?.aborted) return Promise.reject(classifyNetworkError(signal.reason, url, signal));
    let target = this.targets.get(url);
    if (!target) {
      try {
        target = targetFor(url, (u) => this.route(u));
      } catch (e) {
        return Promise.reject(e);
      }
      if (this.targets.size >= MAX_TARGETS) this.targets.clear();
      this.targets.set(url, target);
    }
    return sendRequest(target, this.limits, headers, body, signal);
  }

  private route(u: URL): Route {
    if (u.protocol === 'http:') return this.plain;
    return this.tunnels && !bypassesProxy(u, this.proxy!.noProxy) ? this.tunnels : this.direct;
  }

  async close(): Promise<void> {
    this.direct.agent.destroy();
    this.plain.agent.destroy();
    this.tunnels?.agent.destroy();
  }
}
