import { createHash } from 'node:crypto';

/** Temporary AWS credentials as the agent carries them between the client and the file writer. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** When AWS stops accepting them. */
  expiration: Date;
}

/** `2026-11-22T01:00:00Z`: ISO-8601 UTC to the second (RFC 3339 without milliseconds), as the file and the official helper write it. */
export function formatExpiration(expiration: Date): string {
  const iso = expiration.toISOString();
  // YYYY-MM-DDTHH:mm:ss.sssZ for the years 0-9999 (the slice, without a regular expression, is what
  // every refresh takes); other years have a sign and six digits.
  return iso.length === 24 ? `${iso.slice(0, 19)}Z` : iso.replace(/\.\d{3}Z$/, 'Z');
}

/** Masks a secret for a log line: at most its last 4 characters survive. */
export function mask(secret: string | undefined): string {
  if (!secret) return '(none)';
  return secret.length <= 8 ? '****' : `****${secret.slice(-4)}`;
}

/** A short one-way fingerprint of an access key id: lets state files match keys without holding them. */
export function accessKeyHash(accessKeyId: string): string {
  return createHash('sha256').update(accessKeyId).digest('hex').slice(0, 16);
}
