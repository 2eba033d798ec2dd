/**
 * Authentication of one CreateSession request, the way the service does it: the Authorization
 * header's form and scope, the X-Amz-Date window, the signed-header rules, the certificate in
 * X-Amz-X509 and its serial, the algorithm against the key type, and finally the signature over
 * the canonical request re-derived from the bytes received. Pure apart from crypto; `now` is given.
 */
import { verify, constants } from 'node:crypto';
import { parseCertificate, strictBase64, type ParsedCert } from './certificate.js';
import { canonicalRequestFromReceived, headerValues, stringToSignFromReceived, type ReceivedForSigning } from './canonical.js';
import { accessDenied, type ServiceError } from './service-error.js';
import { table } from '../lookup.js';

export const MAX_SKEW_MS = 5 * 60 * 1000;
export const MAX_INTERMEDIATES = 5;

// Keyed by the Authorization header's algorithm: "constructor" must be unknown, not Object.prototype's.
const ALGORITHM_KEY_TYPE = table<string>({
  'AWS4-X509-RSA-SHA256': 'rsa',
  'AWS4-X509-ECDSA-SHA256': 'ec',
});

/** Headers the service insists on signing (x-amz-x509-chain too, whenever it is sent). */
export const REQUIRED_SIGNED_HEADERS = ['content-type', 'host', 'x-amz-date', 'x-amz-x509'] as const;

export interface Authenticated {
  leaf: ParsedCert;
  /** X-Amz-X509-Chain, in the order sent. */
  intermediates: ParsedCert[];
  algorithm: string;
  /** The region the request was signed for. */
  region: string;
  dateMs: number;
}

interface AuthParts {
  algorithm: string;
  serial: string;
  scopeDate: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `ALG Credential=a/b/c/d/e, SignedHeaders=x;y, Signature=hex` (components in any order). */
export function parseAuthorizationHeader(value: string): AuthParts | undefined {
  const m = /^(\S+)\s+(.+)$/.exec(value.trim());
  if (!m) return undefined;
  const fields = new Map<string, string>();
  for (const part of m[2]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return undefined;
    const key = part.slice(0, eq).trim();
    if (fields.has(key)) return undefined;
    fields.set(key, part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signed = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (fields.size !== 3 || !credential || !signed || !signature) return undefined;
  const scope = credential.split('/');
  if (scope.length !== 5 || scope.some((s) => !s)) return undefined;
  const [serial, scopeDate, region, service, terminator] = scope as [string, string, string, string, string];
  return { algorithm: m[1]!, serial, scopeDate, region, service, terminator, signedHeaders: signed.split(';'), signature };
}

/** `YYYYMMDDTHHMMSSZ` → epoch ms; undefined unless it is exactly that form and a real instant. */
export function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    return undefined;
  }
  return ms;
}

export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function single(req: ReceivedForSigning, name: string): string | undefined {
  const values = headerValues(req.rawHeaders, name);
  return values.length === 1 ? values[0]!.trim() : values.length === 0 ? undefined : values.join(',');
}

function parseChainHeader(value: string): ParsedCert[] | ServiceError {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length > MAX_INTERMEDIATES) {
    return accessDenied(
      'CHAIN_TOO_LONG',
      `Untrusted signing certificate: X-Amz-X509-Chain holds ${parts.length} certificates; at most ${MAX_INTERMEDIATES} intermediates are accepted`,
    );
  }
  const out: ParsedCert[] = [];
  for (const [i, p] of parts.entries()) {
    const der = strictBase64(p);
    if (!der) return accessDenied('CHAIN_MALFORMED', `Invalid X-Amz-X509-Chain: entry ${i + 1} is not base64`);
    try {
      out.push(parseCertificate(der));
    } catch {
      return accessDenied('CHAIN_MALFORMED', `Invalid X-Amz-X509-Chain: entry ${i + 1} is not a DER X.509 certificate`);
    }
  }
  return out;
}

/** Verifies the request's signature and returns its certificates, or the service's refusal. */
export function authenticate(req: ReceivedForSigning, now: number): Authenticated | ServiceError {
  const authValues = headerValues(req.rawHeaders, 'authorization');
  if (authValues.length === 0) return accessDenied('AUTH_MISSING', 'Missing Authentication Token');
  const auth = authValues.length === 1 ? parseAuthorizationHeader(authValues[0]!) : undefined;
  if (!auth) {
    return accessDenied(
      'AUTH_MALFORMED',
      'Authorization header requires Credential, SignedHeaders and Signature: ' +
        '<ALG> Credential=<serial>/<yyyymmdd>/<region>/rolesanywhere/aws4_request, SignedHeaders=<a;b>, Signature=<hex>',
    );
  }
  const keyType = ALGORITHM_KEY_TYPE[auth.algorithm];
  if (!keyType) {
    return accessDenied(
      'ALGORITHM_UNKNOWN',
      `Unsupported signing algorithm ${auth.algorithm}: use AWS4-X509-RSA-SHA256 or AWS4-X509-ECDSA-SHA256`,
    );
  }

  const amzDate = single(req, 'x-amz-date');
  if (amzDate === undefined) return accessDenied('DATE_MISSING', 'Missing X-Amz-Date header');
  const dateMs = parseAmzDate(amzDate);
  if (dateMs === undefined) {
    return accessDenied('DATE_MALFORMED', `X-Amz-Date "${amzDate}" must be in the ISO 8601 basic format YYYYMMDDTHHMMSSZ`);
  }
  now = Math.floor(now / 1000) * 1000; // X-Amz-Date has whole seconds; compare like with like
  if (dateMs < now - MAX_SKEW_MS) {
    return accessDenied(
      'SIGNATURE_EXPIRED',
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - MAX_SKEW_MS)} (${formatAmzDate(now)} - 5 min.)`,
    );
  }
  if (dateMs > now + MAX_SKEW_MS) {
    return accessDenied(
      'SIGNATURE_NOT_YET_CURRENT',
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + MAX_SKEW_MS)} (${formatAmzDate(now)} + 5 min.)`,
    );
  }

  if (auth.service !== 'rolesanywhere' || auth.terminator !== 'aws4_request') {
    return accessDenied(
      'SCOPE_INVALID',
      `Credential should be scoped to the rolesanywhere service with aws4_request, not ${auth.service}/${auth.terminator}`,
    );
  }
  if (auth.scopeDate !== amzDate.slice(0, 8)) {
    return accessDenied(
      'SCOPE_DATE_MISMATCH',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.scopeDate}' != '${amzDate.slice(0, 8)}'`,
    );
  }

  const signed = auth.signedHeaders;
  const canonicalList = [...new Set(signed)].sort();
  if (signed.some((h) => !h || h !== h.toLowerCase()) || canonicalList.join(';') !== signed.join(';')) {
    return accessDenied(
      'SIGNED_HEADERS_MALFORMED',
      `SignedHeaders "${signed.join(';')}" must be lower-case header names, sorted, each once`,
    );
  }
  const chainValue = single(req, 'x-amz-x509-chain');
  const required: string[] = [...REQUIRED_SIGNED_HEADERS];
  if (chainValue !== undefined) required.push('x-amz-x509-chain');
  const unsigned = required.filter((h) => !signed.includes(h));
  if (unsigned.length) {
    return accessDenied('SIGNED_HEADER_REQUIRED', `Header(s) ${unsigned.join(', ')} must be signed (listed in SignedHeaders)`);
  }
  const absent = signed.filter((h) => headerValues(req.rawHeaders, h).length === 0);
  if (absent.length) {
    return accessDenied('SIGNED_HEADER_ABSENT', `SignedHeaders lists ${absent.join(', ')}, which the request does not carry`);
  }

  const x509 = single(req, 'x-amz-x509');
  if (x509 === undefined) return accessDenied('CERT_MISSING', 'Missing X-Amz-X509 header');
  const leafDer = strictBase64(x509);
  let leaf: ParsedCert;
  try {
    if (!leafDer) throw new Error('not base64');
    leaf = parseCertificate(leafDer);
  } catch {
    return accessDenied('CERT_MALFORMED', 'Invalid X-Amz-X509: expected the base64 DER of an X.509 certificate');
  }
  // Compared as text: a serial with leading zeros or in hex is a client bug the service would refuse.
  if (auth.serial !== leaf.serialDecimal) {
    return accessDenied(
      'SERIAL_MISMATCH',
      `Credential serial ${auth.serial} does not match the X-Amz-X509 certificate's serial number ${leaf.serialDecimal} (decimal)`,
    );
  }
  const actualKeyType = leaf.node.publicKey.asymmetricKeyType;
  if (actualKeyType !== keyType) {
    return accessDenied(
      'ALGORITHM_MISMATCH',
      `Signing algorithm ${auth.algorithm} does not match the certificate's ${actualKeyType ?? 'unknown'} key`,
    );
  }
  const intermediates = chainValue === undefined ? [] : parseChainHeader(chainValue);
  if (!Array.isArray(intermediates)) return intermediates;

  const canonical = canonicalRequestFromReceived(req, signed);
  if (canonical === undefined) return accessDenied('SIGNATURE_MISMATCH', 'Invalid signature: the query string has a broken percent-escape');
  const scope = `${auth.scopeDate}/${auth.region}/${auth.service}/${auth.terminator}`;
  const toSign = Buffer.from(stringToSignFromReceived(auth.algorithm, amzDate, scope, canonical), 'utf8');
  const signature = Buffer.from(auth.signature, 'hex');
  let ok = false;
  if (/^[0-9a-f]+$/.test(auth.signature) && auth.signature.length % 2 === 0) {
    try {
      ok =
        keyType === 'rsa'
          ? verify('sha256', toSign, { key: leaf.node.publicKey, padding: constants.RSA_PKCS1_PADDING }, signature)
          : verify('sha256', toSign, { key: leaf.node.publicKey, dsaEncoding: 'der' }, signature);
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    // Like SigV4 services, say what was expected: a client's canonicalisation bug is found at once.
    return accessDenied(
      'SIGNATURE_MISMATCH',
      `Invalid signature. The canonical request should have been\n'${canonical}'\n\nThe string to sign should have been\n'${toSign.toString('utf8')}'`,
    );
  }
  return { leaf, intermediates, algorithm: auth.algorithm, region: auth.region, dateMs };
}
