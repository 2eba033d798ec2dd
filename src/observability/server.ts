/**
 * The optional observability listener (schedule `http: { listen: … }`, off unless configured):
 * `/metrics` (Prometheus text), `/healthz` (200, or 503 naming each failing profile and why) and
 * `/status` (the `status --json` document). GET and HEAD only; any other path is 404, any other
 * method 405. It listens on a TCP address (keep it on loopback: 127.0.0.1) or on a unix socket,
 * made mode 0600 (its directory, when the agent creates it, 0700). Nothing it serves holds a secret;
 * the JSON documents still pass through the Redactor, as the logs do.
 */
import type { Socket } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AgentError } from '../errors.js';
import { removeStaleSocket } from '../serve/unix-socket.js';
import type { Log } from '../log/logger.js';
import type { AgentMetrics } from './metrics.js';
import type { Redactor } from '../log/redact.js';
import type { StatusDocument } from './status-document.js';

export type ListenTarget = { host: string; port: number } | { socket: string };

/** Where a listener actually listens (port 0 resolved): what the state file records. */
export type BoundAddress = { url: string } | { socket: string };

export interface ObservabilityDeps {
  /** Builds the document at each request (liveStatusDocument). */
  document(): StatusDocument;
  metrics: AgentMetrics;
  redactor?: Redactor;
  log?: Log;
}

export interface HealthBody {
  status: 'ok' | 'failing';
  profiles: number;
  failing: Array<{ profile: string; state: string; reason: string }>;
}

export function healthBody(doc: StatusDocument): HealthBody {
  const failing = doc.profiles.filter((p) => !p.healthy).map((p) => ({ profile: p.profile, state: p.state, reason: p.problem ?? 'unhealthy' }));
  return { status: doc.healthy ? 'ok' : 'failing', profiles: doc.profiles.length, failing };
}

/**
 * Connections held at once. When one more arrives, the oldest connection without a request in
 * flight is closed to make room: a probe must get in even when idle or slow clients hold every
 * place (Node's maxConnections refuses the newcomer instead, so 64 idle sockets silenced /healthz).
 */
export const MAX_OPEN_CONNECTIONS = 64;
/** A connection that sends nothing (or nothing more) for this long is closed. */
export const IDLE_TIMEOUT_MS = 5_000;
/** The request headers must be complete this long after the connection or request started. */
export const HEADERS_TIMEOUT_MS = 3_000;

/** Tracks open connections in arrival order and evicts the oldest idle one when full. */
function keepRoomForProbes(server: Server): void {
  const busy = new Map<Socket, boolean>();
  server.on('connection', (socket: Socket) => {
    if (busy.size >= MAX_OPEN_CONNECTIONS) {
      for (const [old, inFlight] of busy) {
        if (!inFlight) {
          old.destroy();
          busy.delete(old);
          break;
        }
      }
    }
    busy.set(socket, false);
    socket.once('close', () => busy.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    if (!busy.has(socket)) return;
    busy.set(socket, true);
    res.once('close', () => {
      if (busy.has(socket)) busy.set(socket, false);
    });
  });
}

export class ObservabilityServer {
  private constructor(
    private readonly server: Server,
    readonly address: BoundAddress,
    private readonly socketPath: string | undefined,
  ) {}

  static async start(target: ListenTarget, deps: ObservabilityDeps): Promise<ObservabilityServer> {
    const server = createServer(
      // Node checks the headers and request timeouts every connectionsCheckingInterval (30 s by
      // default), which let slow senders hold a connection for half a minute.
      { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: 5_000, keepAliveTimeout: IDLE_TIMEOUT_MS, connectionsCheckingInterval: 500 },
      (req, res) => void handle(req, res, deps),
    );
    // Without a 'timeout' listener Node destroys a socket idle this long.
    server.setTimeout(IDLE_TIMEOUT_MS);
    keepRoomForProbes(server);
    if ('socket' in target) {
      await prepareSocketPath(target.socket);
      await listen(server, { path: target.socket }, target.socket);
      try {
        await chmod(target.socket, 0o600);
      } catch (e) {
        await closeServer(server);
        throw new AgentError('CONFIG_INVALID', `http.listen: cannot make the socket ${target.socket} private: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      return new ObservabilityServer(server, { socket: target.socket }, target.socket);
    }
    await listen(server, { host: target.host, port: target.port }, `${target.host}:${target.port}`);
    const a = server.address();
    const port = a && typeof a === 'object' ? a.port : target.port;
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    return new ObservabilityServer(server, { url: `http://${host}:${port}` }, undefined);
  }

  async close(): Promise<void> {
    await closeServer(this.server);
    if (this.socketPath) await rm(this.socketPath, { force: true }).catch(() => {});
  }
}

function listen(server: Server, options: { host: string; port: number } | { path: string }, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      const hint = e.code === 'EADDRINUSE' ? 'another process listens there: choose another http.listen, or stop the other agent' : e.code === 'EACCES' ? 'no permission to listen there' : undefined;
      reject(new AgentError('CONFIG_INVALID', `http.listen ${what}: cannot listen (${e.code ?? e.message})`, hint ? { hint, cause: e } : { cause: e }));
    };
    server.once('error', onError);
    server.listen({ ...options, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Makes the socket's directory (0700) if missing; removes a stale socket, refuses anything else. */
async function prepareSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await removeStaleSocket('http', path);
}

const JSON_TYPE = 'application/json; charset=utf-8';

async function handle(req: IncomingMessage, res: ServerResponse, deps: ObservabilityDeps): Promise<void> {
  const send = (status: number, type: string, body: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...extra });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const json = (status: number, value: unknown) => send(status, JSON_TYPE, JSON.stringify(deps.redactor ? deps.redactor.redactValue(value) : value, null, 2) + '\n');
  try {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain; charset=utf-8', 'only GET and HEAD\n', { Allow: 'GET, HEAD' });
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/metrics':
        return send(200, deps.metrics.contentType, await deps.metrics.text());
      case '/healthz': {
        const body = healthBody(deps.document());
        return json(body.status === 'ok' ? 200 : 503, body);
      }
      case '/status':
        return json(200, deps.document());
      default:
        return send(404, 'text/plain; charset=utf-8', 'not found: /metrics, /healthz and /status are served here\n');
    }
  } catch (e) {
    deps.log?.error('observability request failed', { path: req.url, error: String(e) });
    if (!res.headersSent) send(500, 'text/plain; charset=utf-8', 'internal error (see the agent log)\n');
    else res.destroy();
  }
}
