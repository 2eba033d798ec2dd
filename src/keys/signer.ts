/**
 * The Signer: the one interface every key source (PEM/PKCS#8 file, PKCS#12 bundle, PKCS#11 token)
 * implements. It holds the end-entity certificate and any intermediates, and signs the
 * CreateSession string to sign with the private key. The parsed key stays in memory; a source is
 * re-read only when its owner asks (rotation), never per signature.
 */
import type { X509Certificate } from 'node:crypto';

export type SigningAlgorithm = 'AWS4-X509-RSA-SHA256' | 'AWS4-X509-ECDSA-SHA256';

export interface Signer {
  /** The end-entity certificate sent as X-Amz-X509. */
  readonly certificate: X509Certificate;
  /** Intermediates, leaf's issuer first, sent as X-Amz-X509-Chain (may be empty). */
  readonly chain: readonly X509Certificate[];
  /** Chosen by the key type: RSA → RSA-SHA256 (PKCS#1 v1.5), EC → ECDSA-SHA256 (DER r,s). */
  readonly algorithm: SigningAlgorithm;
  /** Where the key lives, for messages: a file path or a pkcs11: URI without its PIN. */
  readonly description: string;
  /** Signs SHA-256(data) with the private key. */
  sign(data: Buffer): Promise<Buffer>;
  /** Releases a token session or similar; a no-op for file keys. */
  close(): Promise<void>;
}

const serials = new WeakMap<X509Certificate, string>();

/**
 * The certificate serial number in decimal, as `Credential=` wants it. Kept per certificate: every
 * request needs it, and the BigInt conversion cost ~45 µs a request in a 1000-profile refresh cycle.
 */
export function serialDecimal(cert: X509Certificate): string {
  let s = serials.get(cert);
  if (s === undefined) serials.set(cert, (s = BigInt('0x' + cert.serialNumber).toString(10)));
  return s;
}

export function algorithmForKeyType(keyType: string | undefined): SigningAlgorithm | undefined {
  if (keyType === 'rsa') return 'AWS4-X509-RSA-SHA256';
  if (keyType === 'ec') return 'AWS4-X509-ECDSA-SHA256';
  return undefined;
}
