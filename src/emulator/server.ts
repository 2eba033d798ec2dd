/**
 * The emulator's listeners: HTTP and/or HTTPS on loopback, each request read whole, passed through
 * the fault injector and then the CreateSession handler, answered with the service's status codes,
 * `x-amzn-ErrorType` header and JSON bodies, and recorded (never with a secret) in `requests`.
 * Issued credentials are kept in `issued` so tests can check that no secret leaked elsewhere.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { AgentError } from '../errors.js';
import { systemClock, type Clock } from '../time/clock.js';
import { validateConfig, type EmulatorConfig } from './config.js';
import type { IssuedCredentials, RandomSource } from './credentials.js';
import { Faults, type FaultControl } from './faults.js';
import { handleCreateSession, peekFacts, type RequestFacts } from './handler.js';
import type { ParsedCert } from './certificate.js';
import { errorBody, validation, type RejectReason, type ServiceError } from './service-error.js';
import { generateTlsIdentity } from './tls.js';

/** Largest request body read; CreateSession bodies are a few hundred bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface EmulatorOptions {
  /** Time for X-Amz-Date skew, certificate validity, expirations and the throttle window. */
  clock?: Clock;
  /** Default 127.0.0.1. Anything but loopback needs `allowRemote`. */
  host?: string;
  allowRemote?: boolean;
  /**
   * Ports (0 = any free port). With neither given, both HTTP and HTTPS listen on free ports; with
   * one or both given, only those listen.
   */
  httpPort?: number;
  httpsPort?: number;
  /** HTTPS identity: a throwaway CA made at start (default), or your own certificate and key. */
  tls?: 'self-signed' | { certPem: string; keyPem: string; caPem?: string };
  /** Called after each request is recorded (the CLI prints it). */
  onRequest?: (r: RecordedRequest) => void;
  /** Random bytes for credentials; tests may fix them. */
  random?: RandomSource;
  /**
   * How many of the latest requests and issued credentials `requests` and `issued` keep (default
   * DEFAULT_HISTORY_LIMIT); older ones are dropped, so a long-running emulator does not grow
   * without bound or hold every secret it ever issued.
   */
  historyLimit?: number;
}

/** Enough for any test's look back; ~10-30 MB at most, whatever the emulator's uptime. */
export const DEFAULT_HISTORY_LIMIT = 10_000;

export interface RecordedRequest extends RequestFacts {
  time: Date;
  requestId: string;
  method: string;
  path: string;
  ok: boolean;
  /** 0 when the connection was dropped without a reply. */
  status: number;
  errorType?: string;
  reason?: RejectReason | 'CONNECTION_DROPPED';
  message?: string;
}

export interface Emulator {
  httpUrl?: string;
  httpsUrl?: string;
  /** PEM of the CA that signed the HTTPS certificate (clients' --ca-bundle); '' without HTTPS. */
  caPem: string;
  /** The latest requests, oldest first (at most `historyLimit`). */
  requests: RecordedRequest[];
  /** The latest credentials issued, oldest first (at most `historyLimit`). */
  issued: IssuedCredentials[];
  faults: FaultControl;
  /** Read on every request: add or change trust anchors, profiles and roles at run time. */
  config: EmulatorConfig;
  stop(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

function urlFor(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startEmulator(config: EmulatorConfig, opts: EmulatorOptions = {}): Promise<Emulator> {
  const clock = opts.clock ?? systemClock;
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && !opts.allowRemote) {
    throw new AgentError('ARGUMENT_INVALID', `emulator host ${host} is not a loopback address`, {
      hint: 'listen on 127.0.0.1 or ::1, or pass allowRemote (--allow-remote) to serve other machines',
    });
  }
  const issues = validateConfig(config);
  if (issues.length) {
    throw new AgentError('CONFIG_INVALID', `emulator config has ${issues.length} problem(s): ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
  const bothByDefault = opts.httpPort === undefined && opts.httpsPort === undefined;
  const httpPort = bothByDefault ? 0 : opts.httpPort;
  const httpsPort = bothByDefault ? 0 : opts.httpsPort;

  const faults = new Faults(clock, config.faults ?? {});
  const requests: RecordedRequest[] = [];
  const issued: IssuedCredentials[] = [];
  const anchorCache = new Map<string, ParsedCert[]>();
  // Pending latency delays, so stop() can end them instead of leaving handlers waiting forever.
  const delays = new Map<NodeJS.Timeout, () => void>();
  let stopping = false;

  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        delays.delete(t);
        resolve();
      }, ms);
      delays.set(t, resolve);
    });

  const historyLimit = opts.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  const keep = <T>(list: T[], item: T): void => {
    list.push(item);
    while (list.length > historyLimit) list.shift();
  };
  const record = (r: RecordedRequest): void => {
    keep(requests, r);
    opts.onRequest?.(r);
  };

  const sendError = (res: ServerResponse, requestId: string, e: ServiceError): void => {
    const body = errorBody(e);
    res.writeHead(e.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-amzn-RequestId': requestId,
      'x-amzn-ErrorType': e.errorType,
      'x-emulator-reason': e.reason,
    });
    res.end(body);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const rawUrl = req.url ?? '/';
    const base = { time: new Date(clock.now()), requestId, method: req.method ?? '', path: rawUrl.split('?')[0]! };
    let body: Buffer | 'too-large';
    try {
      body = await readBody(req);
    } catch {
      return; // the client went away mid-body; nothing to answer
    }
    const now = clock.now();
    const decision = faults.decide();
    if (faults.latencyMs > 0) await delay(faults.latencyMs);
    if (stopping) return;
    const received = { method: req.method ?? '', rawUrl, rawHeaders: req.rawHeaders, body: body === 'too-large' ? Buffer.alloc(0) : body };
    if (decision.kind === 'drop') {
      record({ ...base, ...peekFacts(received), ok: false, status: 0, reason: 'CONNECTION_DROPPED' });
      req.socket.destroy();
      return;
    }
    const reject = (e: ServiceError, facts: RequestFacts = {}): void => {
      record({ ...base, ...facts, ok: false, status: e.status, errorType: e.errorType, reason: e.reason, message: e.message });
      sendError(res, requestId, e);
    };
    if (decision.kind === 'fail') return reject(decision.error, peekFacts(received));
    if (body === 'too-large') return reject(validation('BODY_TOO_LARGE', `The request body exceeds ${MAX_BODY_BYTES} bytes`));

    const outcome = handleCreateSession(
      received,
      { config, now, shortLivedSeconds: faults.shortLivedSeconds, random: opts.random, anchorCache },
    );
    if (!outcome.ok) return reject(outcome.error, outcome.facts);
    keep(issued, outcome.issued);
    record({ ...base, ...outcome.facts, ok: true, status: 201 });
    const json = JSON.stringify(outcome.body);
    res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), 'x-amzn-RequestId': requestId });
    res.end(json);
  };
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    serve(req, res).catch(() => {
      // A bug in the emulator must still answer, like the service's 500, and never crash the host.
      if (!res.headersSent) sendError(res, 'internal', { status: 500, errorType: 'InternalServerException', message: 'Internal failure', reason: 'INTERNAL' });
      else res.destroy();
    });
  };

  const servers: Server[] = [];
  const emulator: Emulator = {
    caPem: '',
    requests,
    issued,
    faults,
    config,
    async stop() {
      stopping = true;
      for (const [t, resolve] of delays) {
        clearTimeout(t);
        resolve();
      }
      delays.clear();
      await Promise.all(servers.map(close));
    },
  };
  try {
    if (httpPort !== undefined) {
      const server = createHttpServer(listener);
      servers.push(server);
      emulator.httpUrl = urlFor('http', host, await listen(server, httpPort, host));
    }
    if (httpsPort !== undefined) {
      const tls =
        opts.tls === undefined || opts.tls === 'self-signed'
          ? await generateTlsIdentity(host)
          : { certPem: opts.tls.certPem, keyPem: opts.tls.keyPem, caPem: opts.tls.caPem ?? opts.tls.certPem };
      const server = createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, listener);
      servers.push(server);
      emulator.caPem = tls.caPem;
      emulator.httpsUrl = urlFor('https', host, await listen(server, httpsPort, host));
    }
  } catch (e) {
    await emulator.stop();
    throw new AgentError('NETWORK', `emulator cannot listen on ${host}: ${(e as Error).message}`, { cause: e, hint: 'choose another port or 0 for any' });
  }
  return emulator;
}
