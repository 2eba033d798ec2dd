/**
 * What both endpoints share: the outcome names counted in /metrics, and the replies — every
 * refusal is a small JSON error that names the problem and never echoes a token or a secret.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Endpoint = 'ecs' | 'imds';
export type Outcome = 'success' | 'token_issued' | 'unauthorized' | 'forbidden' | 'unavailable' | 'not_found' | 'bad_request' | 'method_not_allowed';

/** Counts each request (AgentMetrics.served). `profile` is '' when the request named none of ours. */
export type CountRequest = (endpoint: Endpoint, profile: string, outcome: Outcome) => void;

const JSON_TYPE = 'application/json';
const BASE_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };

export function send(req: IncomingMessage, res: ServerResponse, status: number, body: string, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...BASE_HEADERS, ...extra });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: string): void {
  send(req, res, status, body, JSON_TYPE);
}

/** `{"code":"…","message":"…"}` (ECS) or `{"Code":"…","Message":"…"}` (IMDS, as EC2 writes). */
export function sendError(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, style: 'ecs' | 'imds', extra: Record<string, string> = {}): void {
  const body = style === 'ecs' ? { code, message } : { Code: code, Message: message };
  send(req, res, status, JSON.stringify(body) + '\n', JSON_TYPE, extra);
}

/** The request path without its query, or undefined when it cannot be decoded. */
export function pathOf(req: IncomingMessage): string | undefined {
  const raw = (req.url ?? '/').split('?')[0]!;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** A header given once; a repeated header is treated as absent (Node joins repeats with ", "). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}
