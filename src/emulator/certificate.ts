/**
 * One parsed certificate as the emulator's checks need it: the fields the service's end-entity and
 * chain rules look at (version, basic constraints, key usage, signature algorithm, validity, names),
 * read straight from the DER with @peculiar/asn1-x509 so that old or odd certificates (v1, MD5)
 * parse instead of throwing, plus a node:crypto view for signature verification.
 */
import 'reflect-metadata';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, KeyUsage, Version, id_ce_basicConstraints, id_ce_keyUsage } from '@peculiar/asn1-x509';
import { X509Certificate } from 'node:crypto';
import { table } from '../lookup.js';

export interface ParsedCert {
  der: Buffer;
  node: X509Certificate;
  /** 1, 2 or 3. */
  version: number;
  serialHex: string;
  serialDecimal: string;
  /** One-line subject and issuer DN for messages, e.g. `CN=leaf, O=Example`. */
  subject: string;
  issuer: string;
  /** DER of the subject and issuer Names: chain links compare these, not strings. */
  subjectDer: Buffer;
  issuerDer: Buffer;
  /** The first CN of the subject, or undefined. */
  commonName: string | undefined;
  notBefore: Date;
  notAfter: Date;
  /** undefined when the certificate has no basic constraints extension. */
  basicConstraints: { ca: boolean; pathLen: number | undefined } | undefined;
  /** Key usage bits (KeyUsageFlags), undefined when the extension is absent. */
  keyUsage: number | undefined;
  /** OID of the algorithm the issuer signed this certificate with. */
  signatureOid: string;
}

export const KEY_USAGE = {
  digitalSignature: 1,
  keyCertSign: 32,
} as const;

/** Signature algorithms the service refuses on an end-entity certificate. */
export const WEAK_SIGNATURE_OIDS: Readonly<Record<string, string>> = table({
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.3': 'md4WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.3.14.3.2.29': 'sha1WithRSASignature',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10040.4.3': 'dsa-with-sha1',
});

function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}

/** Parses one DER certificate; throws on anything that is not one. */
export function parseCertificate(der: Buffer): ParsedCert {
  const asn = AsnConvert.parse(der, Certificate);
  const tbs = asn.tbsCertificate;
  const node = new X509Certificate(der);
  let basicConstraints: ParsedCert['basicConstraints'];
  let keyUsage: number | undefined;
  for (const ext of tbs.extensions ?? []) {
    const value = new Uint8Array((ext.extnValue as OctetString).buffer);
    if (ext.extnID === id_ce_basicConstraints) {
      const bc = AsnConvert.parse(value, BasicConstraints);
      basicConstraints = { ca: bc.cA, pathLen: bc.pathLenConstraint };
    } else if (ext.extnID === id_ce_keyUsage) {
      keyUsage = AsnConvert.parse(value, KeyUsage).toNumber();
    }
  }
  const serialHex = Buffer.from(tbs.serialNumber).toString('hex');
  const subject = oneLine(node.subject);
  const cn = node.subject
    .split('\n')
    .find((line) => line.startsWith('CN='))
    ?.slice(3);
  return {
    der,
    node,
    version: (tbs.version ?? Version.v1) + 1,
    serialHex,
    serialDecimal: BigInt('0x' + (serialHex || '0')).toString(10),
    subject,
    issuer: oneLine(node.issuer),
    subjectDer: Buffer.from(AsnConvert.serialize(tbs.subject)),
    issuerDer: Buffer.from(AsnConvert.serialize(tbs.issuer)),
    commonName: cn,
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    basicConstraints,
    keyUsage,
    signatureOid: asn.signatureAlgorithm.algorithm,
  };
}

/** Every CERTIFICATE block of a PEM text, decoded (a bundle may hold several). */
export function pemBlocks(pem: string): Buffer[] {
  const out: Buffer[] = [];
  const re = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  for (let m = re.exec(pem); m; m = re.exec(pem)) out.push(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  return out;
}

/** Parses every certificate of a PEM bundle; throws when one is not a certificate. */
export function parsePemBundle(pem: string): ParsedCert[] {
  return pemBlocks(pem).map(parseCertificate);
}

/** Strict base64 (the alphabet, optional padding) decoded; undefined when the text is not base64. */
export function strictBase64(text: string): Buffer | undefined {
  const t = text.trim();
  if (!t || t.length % 4 === 1 || !/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return undefined;
  return Buffer.from(t, 'base64');
}

/** The issuer's Name equals the subject's Name, byte for byte. */
export function namesLink(child: ParsedCert, parent: ParsedCert): boolean {
  return child.issuerDer.equals(parent.subjectDer);
}

/** The parent's public key verifies the child's signature. */
export function signedBy(child: ParsedCert, parent: ParsedCert): boolean {
  try {
    return child.node.verify(parent.node.publicKey);
  } catch {
    return false;
  }
}
