/**
 * The handful of certificate fields node's X509Certificate does not expose (the version, whether
 * basicConstraints says CA, whether keyUsage is absent or lacks digitalSignature, the signature
 * algorithm and RSASSA-PSS hash, the validity times), read straight from the DER with a minimal
 * reader. Why not @peculiar/asn1-x509: loading it costs ~100 ms, a third of a `credential-process`
 * call, to read six fields of a certificate node has already parsed and validated. Pure; throws a
 * RangeError on malformed DER (the caller turns it into CERTIFICATE_INVALID).
 */

export interface RawCertificateFields {
  /** The raw version field: 0 = v1, 1 = v2, 2 = v3. */
  version: number;
  ca: boolean;
  /** undefined without a keyUsage extension; else the digitalSignature bit. */
  digitalSignature: boolean | undefined;
  signatureAlgorithmOid: string;
  /** The inner hash OID of RSASSA-PSS parameters; undefined when absent (RFC 4055 default, SHA-1). */
  pssHashOid: string | undefined;
  notBefore: Date;
  notAfter: Date;
}

interface Tlv {
  tag: number;
  /** Start and end of the contents. */
  start: number;
  end: number;
}

function readTlv(b: Buffer, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new RangeError('DER: truncated');
  const tag = b[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new RangeError('DER: multi-byte tags are not used in certificates');
  let len = b[pos + 1]!;
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) throw new RangeError('DER: bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p + i]!;
    p += n;
  }
  if (p + len > limit) throw new RangeError('DER: length runs past its container');
  return { tag, start: p, end: p + len };
}

/** The children of a constructed TLV. */
function children(b: Buffer, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.start; p < t.end; ) {
    const c = readTlv(b, p, t.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new RangeError(`DER: expected ${what}`);
  return t;
}

function oid(b: Buffer, t: Tlv): string {
  expect(t, 0x06, 'an OBJECT IDENTIFIER');
  const parts: number[] = [];
  let v = 0;
  for (let p = t.start; p < t.end; p++) {
    v = v * 128 + (b[p]! & 0x7f);
    if (!(b[p]! & 0x80)) {
      if (parts.length === 0) parts.push(v < 40 ? 0 : v < 80 ? 1 : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

function time(b: Buffer, t: Tlv): Date {
  const s = b.toString('latin1', t.start, t.end);
  let m: RegExpMatchArray | null;
  let year: number;
  if (t.tag === 0x17 && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    year = Number(m[1]);
    year += year < 50 ? 2000 : 1900; // RFC 5280 §4.1.2.5.1
  } else if (t.tag === 0x18 && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    year = Number(m[1]);
  } else {
    throw new RangeError('DER: a validity time is neither UTCTime nor GeneralizedTime in Z form');
  }
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

const BASIC_CONSTRAINTS = '2.5.29.19';
const KEY_USAGE = '2.5.29.15';
const RSASSA_PSS = '1.2.840.113549.1.1.10';

export function readCertificateFields(der: Buffer): RawCertificateFields {
  const cert = expect(readTlv(der, 0, der.length), 0x30, 'a Certificate SEQUENCE');
  const [tbsT, sigAlgT] = children(der, cert);
  const tbs = children(der, expect(tbsT, 0x30, 'a TBSCertificate SEQUENCE'));
  let i = 0;
  let version = 0;
  if (tbs[0]?.tag === 0xa0) {
    const v = expect(children(der, tbs[0])[0], 0x02, 'the version INTEGER');
    version = v.end - v.start === 1 ? der[v.start]! : -1;
    i = 1;
  }
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
  const validity = children(der, expect(tbs[i + 3], 0x30, 'the Validity SEQUENCE'));
  const [nb, na] = validity;
  if (!nb || !na) throw new RangeError('DER: Validity needs two times');
  let ca = false;
  let digitalSignature: boolean | undefined;
  const extsT = tbs.slice(i + 6).find((t) => t.tag === 0xa3);
  if (extsT) {
    for (const extT of children(der, expect(children(der, extsT)[0], 0x30, 'the Extensions SEQUENCE'))) {
      const ext = children(der, expect(extT, 0x30, 'an Extension SEQUENCE'));
      const id = oid(der, expect(ext[0], 0x06, 'an extension OID'));
      const value = expect(ext[ext.length - 1], 0x04, 'an extension OCTET STRING');
      if (id === BASIC_CONSTRAINTS) {
        const bc = children(der, expect(readTlv(der, value.start, value.end), 0x30, 'BasicConstraints'));
        const first = bc[0];
        ca = first?.tag === 0x01 && first.end > first.start && der[first.start] !== 0;
      } else if (id === KEY_USAGE) {
        const bits = expect(readTlv(der, value.start, value.end), 0x03, 'the KeyUsage BIT STRING');
        // Bit 0 (digitalSignature) is the top bit of the first byte after the unused-bits count.
        digitalSignature = bits.end - bits.start > 1 && (der[bits.start + 1]! & 0x80) !== 0;
      }
    }
  }
  const alg = children(der, expect(sigAlgT, 0x30, 'the signatureAlgorithm SEQUENCE'));
  const signatureAlgorithmOid = oid(der, expect(alg[0], 0x06, 'the signature algorithm OID'));
  let pssHashOid: string | undefined;
  if (signatureAlgorithmOid === RSASSA_PSS && alg[1]?.tag === 0x30) {
    const hashT = children(der, alg[1]).find((t) => t.tag === 0xa0);
    if (hashT) pssHashOid = oid(der, expect(children(der, expect(children(der, hashT)[0], 0x30, 'the PSS hash AlgorithmIdentifier'))[0], 0x06, 'the PSS hash OID'));
  }
  return { version, ca, digitalSignature, signatureAlgorithmOid, pssHashOid, notBefore: time(der, nb), notAfter: time(der, na) };
}
