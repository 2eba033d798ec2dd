/** Temporary AWS credentials as the agent carries them between the client and the file writer. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** When AWS stops accepting them. */
  expiration: Date;
}

/** Masks a secret for a log line: at most its last 4 characters survive. */
export function mask(secret: string | undefined): string {
  if (!secret) return '(none)';
  return secret.length <= 8 ? '****' : `****${secret.slice(-4)}`;
}
