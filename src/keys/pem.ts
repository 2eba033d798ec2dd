/**
 * PEM framing: splits a file's text into its `-----BEGIN X-----` blocks (label, RFC 1421 headers such as
 * `Proc-Type`/`DEK-Info`, and the decoded DER) and tells PEM from binary input. It knows nothing about
 * what a block means; certificates.ts and private-key.ts do.
 */

export interface PemBlock {
  /** The label between BEGIN and the dashes, e.g. `CERTIFICATE`, `EC PRIVATE KEY`. */
  label: string;
  /** Encapsulated headers (legacy encrypted keys carry `Proc-Type` and `DEK-Info`). */
  headers: Record<string, string>;
  der: Buffer;
}

// Lenient about line breaks: PEM passed through environment variables or YAML often arrives with
// its newlines turned into spaces, and the base64 body is whitespace-insensitive anyway.
const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/=\s]*$/;

/** True when the buffer holds text with at least one BEGIN line (binary DER never does). */
export function looksLikePem(data: Buffer): boolean {
  return data.includes('-----BEGIN ');
}

/**
 * Every well-formed block in order. A block whose body is not base64 is dropped rather than decoded
 * into garbage, so callers see "no CERTIFICATE block" instead of a parser error deep inside ASN.1.
 */
export function splitPem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const label = m[1] ?? '';
    const body = m[2] ?? '';
    const headers: Record<string, string> = {};
    let base64 = body;
    // Headers end at the first blank line; a body without one has no headers.
    const split = body.match(/^\r?\n((?:[A-Za-z-]+:[^\r\n]*\r?\n)+)\r?\n([\s\S]*)$/);
    if (split) {
      for (const line of (split[1] ?? '').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      }
      base64 = split[2] ?? '';
    }
    if (!BASE64.test(base64)) continue;
    const der = Buffer.from(base64.replace(/\s+/g, ''), 'base64');
    if (der.length === 0) continue;
    blocks.push({ label, headers, der });
  }
  return blocks;
}

/** Labels that hold a private key in any of the formats we read. */
export const PRIVATE_KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);

/** Labels of key types we recognise but refuse, so the message can say what the file holds. */
export const OTHER_KEY_LABELS = new Set(['DSA PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'PUBLIC KEY', 'RSA PUBLIC KEY']);
