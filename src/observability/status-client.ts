/**
 * How `status` asks a running agent for its live state: GET /status on the agent's observability
 * listener (a loopback TCP address or a unix socket), with a short timeout, body returned verbatim
 * so `status --json` prints exactly what `/status` serves.
 */
import { request } from 'node:http';
import type { ListenTarget, BoundAddress } from './server.js';
import type { StatusDocument } from './status-document.js';

/** Where to connect for a configured listen address: a wildcard bind is reached on loopback. */
export function connectTarget(listen: ListenTarget): BoundAddress | undefined {
  if ('socket' in listen) return { socket: listen.socket };
  if (listen.port === 0) return undefined;
  const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}` };
}

export function describeAddress(a: BoundAddress): string {
  return 'url' in a ? a.url : `unix:${a.socket}`;
}

/** GET `path` from the listener; rejects on any transport error, timeout or non-2xx status. */
export function getFromListener(address: BoundAddress, path: string, timeoutMs = 2_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = 'url' in address ? new URL(path, address.url) : undefined;
    const req = request(
      target
        ? { protocol: target.protocol, hostname: target.hostname.replace(/^\[|\]$/g, ''), port: target.port, path: target.pathname, method: 'GET', timeout: timeoutMs }
        : { socketPath: (address as { socket: string }).socket, path, method: 'GET', timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The live status document and its exact text. */
export async function fetchStatus(address: BoundAddress, timeoutMs?: number): Promise<{ text: string; document: StatusDocument }> {
  const { status, body } = await getFromListener(address, '/status', timeoutMs);
  if (status !== 200) throw new Error(`${describeAddress(address)}/status answered ${status}`);
  const document = JSON.parse(body) as StatusDocument;
  if (!document || !Array.isArray(document.profiles)) throw new Error(`${describeAddress(address)}/status did not answer a status document`);
  return { text: body, document };
}
