/**
 * X.509 SigV4 for Roles Anywhere, as pure functions: the canonical request, the string to sign and
 * the Authorization header are built exactly as in SigV4; only the final HMAC is replaced by a
 * signature with the certificate's private key. The signing date is a parameter. The emulator uses
 * the same functions to re-derive what it received, and known-answer tests pin them byte for byte.
 */
import { createHash } from 'node:crypto';
import type { SigningAlgorithm } from '../keys/signer.js';

export const SERVICE = 'rolesanywhere';

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `YYYYMMDDTHHMMSSZ` */
export function amzDate(ms: number): string {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** RFC 3986 percent-encoding of everything but the unreserved set, as SigV4 wants. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** Sorted `k=v&…` with both sides encoded; an input map with repeated keys is not needed here. */
export function canonicalQueryString(query: ReadonlyArray<readonly [string, string]>): string {
  return query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** Lower-cased names, trimmed values with inner runs of spaces folded, sorted by name. */
export function canonicalHeaders(headers: Readonly<Record<string, string>>): { block: string; signed: string } {
  const entries = Object.entries(headers)
    .map(([k, v]) => [k.toLowerCase(), v.trim().replace(/ +/g, ' ')] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return {
    block: entries.map(([k, v]) => `${k}:${v}\n`).join(''),
    signed: entries.map(([k]) => k).join(';'),
  };
}

export interface CanonicalInput {
  method: string;
  path: string;
  query: ReadonlyArray<readonly [string, string]>;
  /** Only the headers that are signed. */
  headers: Readonly<Record<string, string>>;
  body: string | Buffer;
}

export function canonicalRequest(input: CanonicalInput): { text: string; signedHeaders: string } {
  const { block, signed } = canonicalHeaders(input.headers);
  const text = [
    input.method.toUpperCase(),
    input.path,
    canonicalQueryString(input.query),
    block,
    signed,
    sha256Hex(input.body),
  ].join('\n');
  return { text, signedHeaders: signed };
}

export function credentialScope(dateMs: number, region: string): string {
  return `${amzDate(dateMs).slice(0, 8)}/${region}/${SERVICE}/aws4_request`;
}

export function stringToSign(algorithm: SigningAlgorithm, dateMs: number, region: string, canonical: string): string {
  return [algorithm, amzDate(dateMs), credentialScope(dateMs, region), sha256Hex(canonical)].join('\n');
}

export function authorizationHeader(
  algorithm: SigningAlgorithm,
  serialDecimal: string,
  dateMs: number,
  region: string,
  signedHeaders: string,
  signature: Buffer,
): string {
  return (
    `${algorithm} Credential=${serialDecimal}/${credentialScope(dateMs, region)}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature.toString('hex')}`
  );
}

export interface ParsedAuthorization {
  algorithm: string;
  serial: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses an Authorization header of the X.509 SigV4 form; undefined when it is not one. */
export function parseAuthorization(header: string): ParsedAuthorization | undefined {
  const m = /^(AWS4-X509-[A-Z0-9-]+) Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$/.exec(
    header.trim(),
  );
  if (!m) return undefined;
  const scope = m[2]!.split('/');
  if (scope.length !== 5) return undefined;
  const [serial, date, region, service, terminator] = scope as [string, string, string, string, string];
  return {
    algorithm: m[1]!,
    serial,
    date,
    region,
    service,
    terminator,
    signedHeaders: m[3]!.split(';'),
    signature: m[4]!,
  };
}
