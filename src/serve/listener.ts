/**
 * One endpoint's socket: plain HTTP on loopback or on a unix socket, HTTPS when the schedule gives
 * `tls:` (required off loopback). A unix socket is created mode 0600 (bound under a 0177 umask, so
 * it is never open to others even for a moment) in a directory the agent makes 0700 when missing
 * and refuses when others may write to it. Small timeouts and a connection cap keep a slow or
 * hostile client from holding the agent.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AgentError } from '../errors.js';
import { removeStaleSocket } from './unix-socket.js';
import type { ServeListener } from '../config/serve.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface BoundListener {
  /** `http://127.0.0.1:9912`, `https://…` or `unix:/run/…/ecs.sock` (port 0 resolved). */
  address: string;
  close(): Promise<void>;
}

const OPTIONS = { headersTimeout: 5_000, requestTimeout: 10_000, keepAliveTimeout: 5_000 };
/** SDK clients keep one or a few connections each; a generous cap still bounds file descriptors. */
const MAX_CONNECTIONS = 1024;

export async function startListener(what: string, settings: ServeListener, handler: Handler): Promise<BoundListener> {
  let server: Server;
  if (settings.tls) {
    const read = async (file: string, key: string) => {
      try {
        return await readFile(file);
      } catch (e) {
        throw new AgentError('CONFIG_INVALID', `${what}.tls.${key}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { hint: 'point it at a readable PEM file' });
      }
    };
    const [cert, key] = await Promise.all([read(settings.tls.certificate, 'certificate'), read(settings.tls.privateKey, 'private_key')]);
    try {
      server = createHttpsServer({ ...OPTIONS, cert, key, minVersion: 'TLSv1.2' }, handler);
    } catch (e) {
      throw new AgentError('CONFIG_INVALID', `${what}.tls: the certificate and private key cannot be used (${(e as Error).message})`, { hint: 'give a PEM certificate and the PEM private key that matches it' });
    }
  } else {
    server = createHttpServer(OPTIONS, handler);
  }
  server.maxConnections = MAX_CONNECTIONS;
  const scheme = settings.tls ? 'https' : 'http';
  const target = settings.target;
  if ('socket' in target) {
    await prepareSocket(what, target.socket);
    await listen(what, server, { path: target.socket }, () => process.umask(0o177));
    await chmod(target.socket, 0o600);
    return bound(server, `unix:${target.socket}`, target.socket);
  }
  await listen(what, server, { host: target.host, port: target.port });
  const a = server.address();
  const port = a && typeof a === 'object' ? a.port : target.port;
  return bound(server, `${scheme}://${target.host.includes(':') ? `[${target.host}]` : target.host}:${port}`);
}

function bound(server: Server, address: string, socket?: string): BoundListener {
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => (socket ? rm(socket, { force: true }).catch(() => {}) : undefined)),
  };
}

function listen(what: string, server: Server, options: { host: string; port: number } | { path: string }, setUmask?: () => number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      const hint = e.code === 'EADDRINUSE' ? `another process listens there: choose another ${what}.listen, or stop the other agent` : e.code === 'EACCES' ? 'no permission to listen there' : undefined;
      reject(new AgentError('CONFIG_INVALID', `${what}.listen: cannot listen (${e.code ?? e.message})`, hint ? { hint, cause: e } : { cause: e }));
    };
    server.once('error', onError);
    // The bind of a unix socket happens inside listen(), synchronously: the umask covers it alone.
    const old = setUmask?.();
    try {
      server.listen({ ...options, exclusive: true }, () => {
        server.off('error', onError);
        resolve();
      });
    } finally {
      if (old !== undefined) process.umask(old);
    }
  });
}

/** The socket's directory: made 0700 when missing, refused when others may write to it; a stale socket is removed. */
async function prepareSocket(what: string, path: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const d = await stat(dir);
  if ((d.mode & 0o022) !== 0) {
    throw new AgentError('CONFIG_INVALID', `${what}.listen: the directory ${dir} is writable by others (mode ${(d.mode & 0o7777).toString(8)}), who could replace the socket`, {
      hint: `put the socket in a directory only the agent's user can write, e.g. chmod 700 ${dir}`,
    });
  }
  await removeStaleSocket(what, path);
}
