/**
 * Certificates as the agent reads them: PEM bundles and DER files into node X509Certificate objects,
 * the facts the service judges a certificate by (version, CA flag, key usage, signature hash, validity)
 * read straight from the DER (certificate-der.ts), a one-line description for messages, and chain
 * ordering for bundles whose certificates come in no particular order (PKCS#12).
 */
import { X509Certificate } from 'node:crypto';
import { readCertificateFields } from './certificate-der.js';
import { AgentError } from '../errors.js';
import { serialDecimal } from './signer.js';
import { splitPem } from './pem.js';

/** Parses every CERTIFICATE block of a PEM text; `where` names the file in errors. */
export function parseCertificateBundle(pem: string, where: string): X509Certificate[] {
  const blocks = splitPem(pem).filter((b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE');
  return blocks.map((b, i) => parseDerCertificate(b.der, blocks.length > 1 ? `${where} (certificate ${i + 1})` : where));
}

export function parseDerCertificate(der: Buffer, where: string): X509Certificate {
  try {
    const cert = new X509Certificate(der);
    // Fail here rather than in a later check: everything below relies on this parse.
    certificateFacts(cert);
    return cert;
  } catch (e) {
    throw new AgentError('CERTIFICATE_INVALID', `${where} is not a valid X.509 certificate`, {
      cause: e,
      hint: 'export the certificate again as PEM (openssl x509 -in cert -out cert.pem)',
    });
  }
}

export type SignatureHash = 'md2' | 'md4' | 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'unknown';

export interface CertificateFacts {
  /** 1, 2 or 3. */
  version: number;
  /** basicConstraints cA; false when the extension is absent. */
  ca: boolean;
  /** Undefined when the certificate has no keyUsage extension. */
  keyUsage: { digitalSignature: boolean } | undefined;
  signatureAlgorithmOid: string;
  /** The hash the issuer signed this certificate with. */
  signatureHash: SignatureHash;
  notBefore: Date;
  notAfter: Date;
}

const SIGNATURE_HASHES: Record<string, SignatureHash> = {
  '1.2.840.113549.1.1.2': 'md2',
  '1.2.840.113549.1.1.3': 'md4',
  '1.2.840.113549.1.1.4': 'md5',
  '1.2.840.113549.1.1.5': 'sha1',
  '1.3.14.3.2.29': 'sha1',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10040.4.3': 'sha1',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};
const HASH_OIDS: Record<string, SignatureHash> = {
  '1.2.840.113549.2.5': 'md5',
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const RSASSA_PSS = '1.2.840.113549.1.1.10';

const factsCache = new WeakMap<X509Certificate, CertificateFacts>();

/**
 * Read from the DER rather than node's X509Certificate, which exposes neither the version nor the
 * signature algorithm, nor whether keyUsage is absent or merely empty.
 */
export function certificateFacts(cert: X509Certificate): CertificateFacts {
  const cached = factsCache.get(cert);
  if (cached) return cached;
  const f = readCertificateFields(cert.raw);
  const oid = f.signatureAlgorithmOid;
  let signatureHash = SIGNATURE_HASHES[oid] ?? 'unknown';
  // Absent PSS parameters mean the RFC 4055 default, SHA-1.
  if (oid === RSASSA_PSS) signatureHash = HASH_OIDS[f.pssHashOid ?? '1.3.14.3.2.26'] ?? 'unknown';
  const facts: CertificateFacts = {
    version: f.version === 2 ? 3 : f.version === 1 ? 2 : 1,
    ca: f.ca,
    keyUsage: f.digitalSignature === undefined ? undefined : { digitalSignature: f.digitalSignature },
    signatureAlgorithmOid: oid,
    signatureHash,
    notBefore: f.notBefore,
    notAfter: f.notAfter,
  };
  factsCache.set(cert, facts);
  return facts;
}

export interface CertificateDescription {
  subject: string;
  issuer: string;
  serialHex: string;
  serialDecimal: string;
  notBefore: Date;
  notAfter: Date;
  /** `CN=host, serial 0a1b (2587), expires 2026-01-01T00:00:00Z` */
  text: string;
}

export function describeCertificate(cert: X509Certificate): CertificateDescription {
  const facts = certificateFacts(cert);
  const subject = oneLineName(cert.subject);
  const serialHex = cert.serialNumber.toLowerCase();
  const decimal = serialDecimal(cert);
  return {
    subject,
    issuer: oneLineName(cert.issuer),
    serialHex,
    serialDecimal: decimal,
    notBefore: facts.notBefore,
    notAfter: facts.notAfter,
    text: `${subject}, serial ${serialHex} (${decimal}), expires ${isoSeconds(facts.notAfter)}`,
  };
}

/** node prints names one attribute per line; messages want one line. */
export function oneLineName(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}

/** `2026-01-01T00:00:00Z`: certificate times have whole seconds, so the milliseconds are noise. */
export function isoSeconds(d: Date | number): string {
  return new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function isSelfIssued(cert: X509Certificate): boolean {
  return issuedBy(cert, cert);
}

/** Names match (and key identifiers, when present) and the issuer's key verifies the signature. */
export function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    // A key type the signature algorithm cannot use: not the issuer.
    return false;
  }
}

/**
 * Orders a bag of certificates into the leaf's chain, issuer first. Self-signed roots are dropped: the
 * trust anchor already holds the root and the service counts the chain against its limit of five.
 * Certificates that are not on the leaf's path are kept after it, so the chain check reports them
 * instead of their silently vanishing.
 */
export function orderChain(leaf: X509Certificate, others: readonly X509Certificate[]): X509Certificate[] {
  const pool: X509Certificate[] = [];
  for (const c of others) {
    if (c.raw.equals(leaf.raw) || isSelfIssued(c) || pool.some((p) => p.raw.equals(c.raw))) continue;
    pool.push(c);
  }
  const ordered: X509Certificate[] = [];
  let child = leaf;
  for (;;) {
    const i = pool.findIndex((c) => issuedBy(child, c));
    if (i < 0) break;
    const [parent] = pool.splice(i, 1) as [X509Certificate];
    ordered.push(parent);
    child = parent;
  }
  return [...ordered, ...pool];
}
