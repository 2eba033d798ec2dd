/**
 * The server side of SigV4 canonicalisation: rebuilds the canonical request and the string to sign
 * from the request exactly as it arrived (raw path and query, raw header lines, raw body bytes).
 * Written independently of src/rolesanywhere/sigv4.ts on purpose: if the client's signing code and
 * the emulator shared one implementation, a bug in it would sign and verify happily and no test
 * would notice. The tests cross-check the two and pin this one to AWS's published example.
 */
import { createHash } from 'node:crypto';

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 3986: everything but A-Z a-z 0-9 - . _ ~ percent-encoded as UTF-8, upper-case hex. */
export function awsPercentEncode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Splits a raw URL into its path and query parts without decoding either. */
export function splitUrl(rawUrl: string): { path: string; query: string } {
  const q = rawUrl.indexOf('?');
  return q < 0 ? { path: rawUrl, query: '' } : { path: rawUrl.slice(0, q), query: rawUrl.slice(q + 1) };
}

/**
 * Decoded (name, value) pairs of a raw query string; undefined when a percent-escape is broken.
 * `+` is kept as a literal plus: SigV4 clients encode a space as %20.
 */
export function parseRawQuery(query: string): Array<[string, string]> | undefined {
  const pairs: Array<[string, string]> = [];
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    try {
      pairs.push([decodeURIComponent(k), decodeURIComponent(v)]);
    } catch {
      return undefined;
    }
  }
  return pairs;
}

export function canonicalQuery(pairs: ReadonlyArray<readonly [string, string]>): string {
  const encoded = pairs.map(([k, v]) => [awsPercentEncode(k), awsPercentEncode(v)] as const);
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  encoded.sort((a, b) => cmp(a[0], b[0]) || cmp(a[1], b[1]));
  return encoded.map(([k, v]) => `${k}=${v}`).join('&');
}

/**
 * Values of one header as received, in order (node's rawHeaders alternates name, value).
 * Empty when the header is absent.
 */
export function headerValues(rawHeaders: readonly string[], name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === lower) out.push(rawHeaders[i + 1]!);
  }
  return out;
}

/** SigV4 header value: trimmed, runs of spaces folded, repeated headers joined with commas. */
export function canonicalHeaderValue(values: readonly string[]): string {
  return values.map((v) => v.trim().replace(/ +/g, ' ')).join(',');
}

export interface ReceivedForSigning {
  method: string;
  rawUrl: string;
  rawHeaders: readonly string[];
  body: Buffer;
}

/**
 * The canonical request over the listed signed headers (already lower-case and sorted by the
 * caller's checks); undefined when the query string cannot be decoded.
 */
export function canonicalRequestFromReceived(req: ReceivedForSigning, signedHeaders: readonly string[]): string | undefined {
  const { path, query } = splitUrl(req.rawUrl);
  const pairs = parseRawQuery(query);
  if (!pairs) return undefined;
  const headerBlock = signedHeaders.map((h) => `${h}:${canonicalHeaderValue(headerValues(req.rawHeaders, h))}\n`).join('');
  return [req.method.toUpperCase(), path || '/', canonicalQuery(pairs), headerBlock, signedHeaders.join(';'), sha256Hex(req.body)].join('\n');
}

export function stringToSignFromReceived(algorithm: string, amzDate: string, scope: string, canonical: string): string {
  return [algorithm, amzDate, scope, sha256Hex(canonical)].join('\n');
}
