/**
 * Certificates test/helpers/pki.ts cannot make because WebCrypto refuses them: X.509 v1 and
 * MD5-signed. Built from ASN.1 with @peculiar/asn1-x509 and signed with node:crypto
 * (`crypto.sign('md5', tbs, key)` works with OpenSSL 3's default provider). Generated at test time.
 */
import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_basicConstraints,
  id_ce_keyUsage,
} from '@peculiar/asn1-x509';
import { OctetString } from '@peculiar/asn1-schema';
import { X509Certificate, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { Issued } from '../helpers/pki.js';

export interface LegacyLeaf {
  nodeCert: X509Certificate;
  privateKey: KeyObject;
}

const SIG_OIDS = { md5: '1.2.840.113549.1.1.4', sha1: '1.2.840.113549.1.1.5', sha256: '1.2.840.113549.1.1.11' } as const;

function name(cn: string): Name {
  return new Name([new RelativeDistinguishedName([new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: cn }) })])]);
}

/**
 * A leaf issued by an RSA `issuer` (from pki.ts): `version` 1 (no extensions) or 3 (CA:false,
 * digitalSignature), signed with MD5 or SHA-256.
 */
export function legacyLeaf(issuer: Issued, o: { cn: string; version: 1 | 3; hash: keyof typeof SIG_OIDS }): LegacyLeaf {
  if (issuer.kind !== 'rsa') throw new Error('legacyLeaf needs an RSA issuer');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const issuerTbs = AsnConvert.parse(issuer.nodeCert.raw, Certificate).tbsCertificate;
  const serial = randomBytes(8);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, non-zero leading byte
  const sigAlg = new AlgorithmIdentifier({ algorithm: SIG_OIDS[o.hash], parameters: null });
  const tbs = new TBSCertificate({
    version: o.version === 1 ? Version.v1 : Version.v3,
    serialNumber: new Uint8Array(serial).buffer,
    signature: sigAlg,
    issuer: issuerTbs.subject,
    validity: new Validity({ notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 30 * 864e5) }),
    subject: name(o.cn),
    subjectPublicKeyInfo: AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo),
  });
  if (o.version === 3) {
    tbs.extensions = new Extensions([
      new Extension({ extnID: id_ce_basicConstraints, critical: true, extnValue: new OctetString(AsnConvert.serialize(new BasicConstraints({ cA: false }))) }),
      new Extension({
        extnID: id_ce_keyUsage,
        critical: true,
        extnValue: new OctetString(AsnConvert.serialize(new KeyUsage(KeyUsageFlags.digitalSignature))),
      }),
    ]);
  }
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign(o.hash, tbsDer, issuer.privateKey);
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: sigAlg, signatureValue: new Uint8Array(signature).buffer });
  return { nodeCert: new X509Certificate(Buffer.from(AsnConvert.serialize(cert))), privateKey };
}
