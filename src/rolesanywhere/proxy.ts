/**
 * The proxy half of the transport: which proxy the environment names (HTTPS_PROXY, NO_PROXY),
 * checked once at start, and a keep-alive https.Agent whose every connection is a CONNECT tunnel
 * through that proxy with TLS to the endpoint inside it. A tunnel is one connection to the proxy,
 * opened under one connect timeout that covers the proxy's TCP (and TLS) handshake, its answer to
 * CONNECT and the endpoint's TLS handshake; a proxy that refuses, closes or stalls becomes one
 * AgentError naming the proxy (never its password) and the variable it came from. Nothing here
 * retries: the client's bounded attempts do.
 *
 * This replaced undici's EnvHttpProxyAgent, which reconnected in a tight loop (~2,500
 * connections/s, forever) when a proxy closed the connection without answering CONNECT, and had
 * no timeout on a proxy that never answered.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type AgentOptions, type RequestOptions } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type SecureContext, type TLSSocket } from 'node:tls';
import { AgentError } from '../errors.js';

/** The proxy settings of an environment that apply to CreateSession, lower-case names first. */
export interface ProxySettings {
  /** The proxy URL, with a scheme; may hold a user and password. */
  httpsProxy: string;
  noProxy: string;
  /** The variable the proxy came from (`HTTPS_PROXY` or `https_proxy`), for messages. */
  variable: string;
}

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const URL_HINT = 'set it to http://HOST:PORT (user and password, if any, before an @), or unset it to connect directly';

/**
 * The proxy an environment asks for, or undefined when it names none (then requests go direct).
 * As for curl, Go and the AWS CLI, an https:// URL goes through HTTPS_PROXY only: HTTP_PROXY is for
 * http:// URLs, and the only http:// endpoints allowed are on loopback (the emulator), which go
 * direct. A proxy without a scheme is read as http://, as those tools read it. A value that is not
 * an http:// or https:// URL, or whose user or password is not valid percent-encoding, throws
 * CONFIG_INVALID naming the variable, so the user learns it at start rather than as a network
 * error at every refresh; a password in it is never shown.
 */
export function proxySettings(env: NodeJS.ProcessEnv): ProxySettings | undefined {
  const [variable, value] = proxyVariable(env, 'https_proxy');
  const httpsProxy = proxyUrl(variable, value);
  return httpsProxy ? { httpsProxy, noProxy: proxyVariable(env, 'no_proxy')[1], variable } : undefined;
}

/** The variable the transport reads for `name` (lower case first, as curl does) and its value; '' when unset. */
export function proxyVariable(env: NodeJS.ProcessEnv, name: 'https_proxy' | 'no_proxy'): [string, string] {
  for (const n of [name, name.toUpperCase()]) {
    const v = env[n];
    if (v !== undefined) return [n, v];
  }
  return [name.toUpperCase(), ''];
}

function proxyUrl(variable: string, value: string): string {
  if (value === '') return '';
  const scheme = URL_SCHEME.exec(value)?.[0];
  const withScheme = scheme ? value : `http://${value}`;
  // Everything between the scheme and the last @ may be a user and password.
  const at = value.lastIndexOf('@');
  const shown = at >= (scheme ?? '').length ? `${scheme ?? ''}***${value.slice(at)}` : value;
  let url: URL | undefined;
  try {
    url = new URL(withScheme);
  } catch {
    url = undefined;
  }
  if (url && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AgentError('CONFIG_INVALID', `${variable} is a ${url.protocol} URL; only http:// and https:// proxies are supported`, { hint: URL_HINT });
  }
  if (!url || url.hostname === '') {
    throw new AgentError('CONFIG_INVALID', `${variable} is not a proxy URL: "${shown}"`, { hint: URL_HINT });
  }
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    throw new AgentError('CONFIG_INVALID', `${variable} has a user or password that is not valid percent-encoding: "${shown}"`, {
      hint: 'write a % in the user or password as %25 (and @ as %40, : as %3A), or check the value for a stray %',
    });
  }
  return withScheme;
}

/** The proxy as messages show it: scheme, host and port, never the user or password. */
export function proxyName(p: ProxySettings): string {
  const u = new URL(p.httpsProxy);
  return `${u.protocol}//${u.host} (${p.variable})`;
}

/**
 * Whether NO_PROXY sends `url` direct, with undici's rules (which the transport kept when it
 * dropped undici): entries split on commas and spaces, `*` alone bypasses every host, a leading `.`
 * or `*.` is dropped, an entry matches the host itself and its subdomains, `:PORT` limits it to that
 * port, case does not matter. An IPv6 entry matches with or without brackets.
 */
export function bypassesProxy(url: URL, noProxy: string): boolean {
  const entries = noProxy.split(/[,\s]/).filter(Boolean);
  if (entries.length === 0) return false;
  if (noProxy.trim() === '*') return true;
  const host = url.hostname.toLowerCase();
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  for (const entry of entries) {
    const parsed = /^(.+):(\d+)$/.exec(entry);
    // `::1` is an address, not host `:` and port 1.
    const isV6 = !entry.startsWith('[') && isIP(entry) === 6;
    const name = (parsed && !isV6 ? parsed[1]! : entry).replace(/^\*?\./, '').toLowerCase();
    const entryPort = parsed && !isV6 ? Number(parsed[2]) : 0;
    if (entryPort && entryPort !== port) continue;
    const entryBare = name.replace(/^\[(.*)\]$/, '$1');
    if (host === name || bare === entryBare || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

export interface TunnelOptions {
  proxy: ProxySettings;
  secureContext: SecureContext;
  rejectUnauthorized: boolean;
  connectTimeoutMs: number;
  /** Idle tunnels close after this long. */
  idleTimeoutMs: number;
}

/** What a request hands the agent so that its own timeout or cancellation ends a tunnel being opened. */
export interface TunnelCancel {
  cancel?: (reason: AgentError) => void;
}

/** The option key under which a request passes its TunnelCancel to createConnection. */
export const TUNNEL_CANCEL = 'rolesanywhereTunnelCancel';

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

const TLS_ERROR = /^(CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_TLS_|ERR_SSL_|EPROTO$)/;

/**
 * A keep-alive https.Agent whose connections are CONNECT tunnels: idle tunnels are reused by the
 * next request to the same endpoint, so an agent refreshing many profiles opens about as many
 * tunnels as it runs calls at once, not one per request.
 */
export class TunnelAgent extends HttpsAgent {
  private readonly proxyUrl: URL;
  private readonly name: string;
  private readonly authorization: string | undefined;
  /** Tunnels being opened, so that close() ends them too (the agent only knows finished ones). */
  private readonly opening = new Set<(reason: AgentError) => void>();
  /** The connection to the proxy under each tunnel's TLS, to unref and ref it with the tunnel. */
  private readonly carriers = new WeakMap<Duplex, Socket>();

  constructor(private readonly t: TunnelOptions) {
    super({ keepAlive: true, timeout: t.idleTimeoutMs } as AgentOptions);
    this.proxyUrl = new URL(t.proxy.httpsProxy);
    this.name = proxyName(t.proxy);
    const { username, password } = this.proxyUrl;
    // Checked by proxySettings(): the percent-encoding is valid.
    this.authorization = username || password ? `Basic ${Buffer.from(`${decodeURIComponent(username)}:${decodeURIComponent(password)}`).toString('base64')}` : undefined;
  }

  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const host = String(options.host ?? 'localhost');
    const port = Number(options.port ?? 443);
    const cancel = (options as Record<string, unknown>)[TUNNEL_CANCEL] as TunnelCancel | undefined;
    this.open(host, port, cancel).then(
      (socket) => callback?.(null, socket),
      (e: Error) => callback?.(e, undefined as unknown as Duplex),
    );
    return undefined;
  }

  override keepSocketAlive(socket: Duplex): void {
    // Node returns whether the socket may be kept (the typings say void): pass it on.
    const kept = super.keepSocketAlive(socket) as unknown as boolean;
    // An idle tunnel must not keep the process alive (TLS over TLS does not pass unref() down).
    this.carriers.get(socket)?.unref();
    return kept as unknown as void;
  }

  override reuseSocket(socket: Duplex, request: Parameters<HttpsAgent['reuseSocket']>[1]): void {
    super.reuseSocket(socket, request);
    this.carriers.get(socket)?.ref();
  }

  override destroy(): void {
    for (const end of [...this.opening]) end(new AgentError('ABORTED', `tunnel through the proxy ${this.name} cancelled`));
    super.destroy();
  }

  private open(host: string, port: number, cancel: TunnelCancel | undefined): Promise<TLSSocket> {
    const bareHost = host.replace(/^\[(.*)\]$/, '$1');
    const target = `${isIP(bareHost) === 6 ? `[${bareHost}]` : bareHost}:${port}`;
    const proxyHost = this.proxyUrl.hostname.replace(/^\[(.*)\]$/, '$1');
    const overTls = this.proxyUrl.protocol === 'https:';
    const name = this.name;
    const bypass = `list ${bareHost} in NO_PROXY or unset ${this.t.proxy.variable} to connect directly`;
    return new Promise<TLSSocket>((resolve, reject) => {
      let phase: 'reach' | 'answer' | 'tls' = 'reach';
      let carrier: Socket | undefined;
      let tunnel: TLSSocket | undefined;
      let settled = false;
      const end = (e: AgentError | Error | undefined, socket?: TLSSocket) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.opening.delete(end);
        if (cancel) delete cancel.cancel;
        if (socket) return resolve(socket);
        connect.destroy();
        tunnel?.destroy();
        carrier?.destroy();
        reject(e);
      };
      this.opening.add(end);
      if (cancel) cancel.cancel = end;
      const timer = setTimeout(() => {
        const within = seconds(this.t.connectTimeoutMs);
        const hint = `check that the proxy is up and lets this host CONNECT to ${target}, or ${bypass}`;
        const message =
          phase === 'reach'
            ? `cannot connect to the proxy ${name} within ${within}`
            : phase === 'answer'
              ? `the proxy ${name} did not answer CONNECT to ${target} within ${within}`
              : `TLS handshake with ${target} through the proxy ${name} took longer than ${within}`;
        end(new AgentError('TIMEOUT', message, { retryable: true, hint }));
      }, this.t.connectTimeoutMs);

      const connect = (overTls ? httpsRequest : httpRequest)({
        host: proxyHost,
        port: Number(this.proxyUrl.port) || (overTls ? 443 : 80),
        method: 'CONNECT',
        path: target,
        agent: false,
        headers: { host: target, ...(this.authorization ? { 'proxy-authorization': this.authorization } : {}) },
        ...(overTls
          ? { secureContext: this.t.secureContext, rejectUnauthorized: this.t.rejectUnauthorized, ...(isIP(proxyHost) ? {} : { servername: proxyHost }) }
          : {}),
      });
      connect.once('socket', (s: Socket) => s.once(overTls ? 'secureConnect' : 'connect', () => (phase = 'answer')));
      connect.on('error', (e: Error & { code?: string }) => {
        const code = e.code ?? 'unknown';
        if (phase === 'reach' && TLS_ERROR.test(code)) {
          return end(
            new AgentError('TLS', `TLS connection to the proxy ${name} failed: ${code} (${e.message})`, {
              cause: e,
              hint: `the proxy's certificate must be trusted: add its CA with --ca-bundle (ca_bundle: in the schedule, or AWS_CA_BUNDLE), or check the proxy URL in ${this.t.proxy.variable}`,
            }),
          );
        }
        if (phase === 'reach') {
          return end(
            new AgentError('NETWORK', `cannot connect to the proxy ${name}: ${code}`, {
              cause: e,
              retryable: true,
              hint: `check that the proxy is up and that ${this.t.proxy.variable} names the right host and port, or ${bypass}`,
            }),
          );
        }
        end(
          new AgentError('NETWORK', `the proxy ${name} closed the connection without answering CONNECT to ${target}`, {
            cause: e,
            retryable: true,
            hint: `check the proxy's logs: it may refuse CONNECT to port ${port}, or need another port or scheme in ${this.t.proxy.variable}; or ${bypass}`,
          }),
        );
      });
      connect.once('connect', (res: IncomingMessage, socket: Socket, head: Buffer) => {
        carrier = socket;
        // The HTTP client has let go of the socket: its errors are ours now.
        socket.on('error', (e) => {
          if (tunnel && settled) tunnel.destroy(e);
          else end(new AgentError('NETWORK', `the connection to the proxy ${name} failed while opening a tunnel to ${target}: ${(e as { code?: string }).code ?? e.message}`, { cause: e, retryable: true, hint: `check the proxy's logs, or ${bypass}` }));
        });
        if (res.statusCode !== 200) return end(proxyRefusal(res.statusCode ?? 0, res.statusMessage ?? '', name, target, this.t.proxy.variable));
        if (head.length) socket.unshift(head);
        phase = 'tls';
        tunnel = tlsConnect({
          socket,
          // The identity checked is the endpoint's: SNI for a name, the address for an IP.
          host: bareHost,
          ...(isIP(bareHost) ? {} : { servername: bareHost }),
          secureContext: this.t.secureContext,
          rejectUnauthorized: this.t.rejectUnauthorized,
        });
        const through = tunnel;
        through.once('secureConnect', () => {
          this.carriers.set(through, socket);
          through.once('close', () => socket.destroy());
          end(undefined, through);
        });
        // Classified by the transport: a TLS code names the endpoint, as it would without a proxy.
        through.once('error', (e) => end(e));
        socket.once('close', () => end(new AgentError('NETWORK', `the proxy ${name} closed the tunnel to ${target} during the TLS handshake`, { retryable: true, hint: `check the proxy's logs, or ${bypass}` })));
      });
      connect.end();
    });
  }
}

/** The proxy answered CONNECT with `status`: credentials (407) and refusals (4xx) are not retried; 5xx are. */
function proxyRefusal(status: number, statusText: string, name: string, target: string, variable: string): AgentError {
  const host = target;
  if (status === 407) {
    return new AgentError('NETWORK', `the proxy ${name} refused to open a tunnel to ${host}: 407 Proxy Authentication Required`, {
      hint: `put the proxy user and password in ${variable} (http://USER:PASSWORD@HOST:PORT, special characters percent-encoded), and check them with the proxy's owner`,
    });
  }
  const retryable = status >= 500;
  return new AgentError('NETWORK', `the proxy ${name} ${retryable ? 'could not' : 'refused to'} open a tunnel to ${host}: ${status}${statusText ? ` ${statusText}` : ''}`, {
    retryable,
    hint: retryable
      ? `the proxy could not reach ${host}: check the endpoint URL and the proxy's logs`
      : `ask the proxy's owner to allow CONNECT to ${host}, or list the host in NO_PROXY if it is reachable directly`,
  });
}
