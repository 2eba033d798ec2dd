/**
 * The service's certificate rules: what an end-entity certificate must be (X.509 v3, not a CA,
 * digitalSignature key usage, not signed with MD5/SHA-1, in date), and a path from it through the
 * intermediates the client sent (at most five, any order) to a CA certificate of the requested
 * trust anchor, with every signature checked, every certificate in date, and every issuing
 * intermediate a CA allowed to sign certificates within its path length. Pure: `now` is given.
 */
import { KEY_USAGE, WEAK_SIGNATURE_OIDS, namesLink, signedBy, type ParsedCert } from './certificate.js';
import { accessDenied, type ServiceError } from './service-error.js';
import { MAX_INTERMEDIATES } from './authenticate.js';

const UNTRUSTED = 'Untrusted signing certificate';

function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function inDate(cert: ParsedCert, role: string, now: number): ServiceError | undefined {
  if (now < cert.notBefore.getTime()) {
    return accessDenied(
      'CERT_NOT_YET_VALID',
      `Certificate is not yet valid: ${role} ${cert.subject} is valid from ${iso(cert.notBefore)}; the time is ${iso(new Date(now))}`,
    );
  }
  if (now > cert.notAfter.getTime()) {
    return accessDenied(
      'CERT_EXPIRED',
      `Certificate has expired: ${role} ${cert.subject} expired ${iso(cert.notAfter)}; the time is ${iso(new Date(now))}`,
    );
  }
  return undefined;
}

/** The end-entity rules, checked before any chain is looked for. */
export function checkEndEntity(leaf: ParsedCert, now: number): ServiceError | undefined {
  if (leaf.version !== 3) {
    return accessDenied('LEAF_NOT_V3', `Invalid certificate: ${leaf.subject} is X.509 v${leaf.version}; only v3 certificates are accepted`);
  }
  if (leaf.basicConstraints?.ca) {
    return accessDenied('LEAF_IS_CA', `Invalid certificate: ${leaf.subject} has basicConstraints CA:true; the end-entity certificate must not be a CA`);
  }
  if (leaf.keyUsage === undefined || (leaf.keyUsage & KEY_USAGE.digitalSignature) === 0) {
    return accessDenied(
      'LEAF_NO_DIGITAL_SIGNATURE',
      `Invalid certificate: ${leaf.subject} ${leaf.keyUsage === undefined ? 'has no key usage extension' : 'lacks the digitalSignature key usage'}; digitalSignature is required`,
    );
  }
  const weak = WEAK_SIGNATURE_OIDS[leaf.signatureOid];
  if (weak) {
    return accessDenied('LEAF_WEAK_SIGNATURE', `Invalid certificate: ${leaf.subject} is signed with ${weak}; MD5 and SHA-1 signatures are not accepted`);
  }
  return inDate(leaf, 'end-entity certificate', now);
}

function issues(child: ParsedCert, parent: ParsedCert): boolean {
  return namesLink(child, parent) && signedBy(child, parent);
}

/** Depth-first: the first path leaf → intermediates… → anchor certificate. */
function findPath(path: ParsedCert[], unused: ParsedCert[], anchors: readonly ParsedCert[]): ParsedCert[] | undefined {
  const current = path[path.length - 1]!;
  const anchor = anchors.find((a) => issues(current, a));
  if (anchor) return [...path, anchor];
  if (path.length - 1 >= MAX_INTERMEDIATES) return undefined;
  for (const candidate of unused) {
    if (!issues(current, candidate)) continue;
    const found = findPath(
      [...path, candidate],
      unused.filter((c) => c !== candidate),
      anchors,
    );
    if (found) return found;
  }
  return undefined;
}

function checkIssuer(cert: ParsedCert, role: string, below: number): ServiceError | undefined {
  if (!cert.basicConstraints?.ca) {
    return accessDenied('INTERMEDIATE_NOT_CA', `${UNTRUSTED}: ${role} ${cert.subject} is not a CA (basicConstraints CA:true is required)`);
  }
  if (cert.keyUsage !== undefined && (cert.keyUsage & KEY_USAGE.keyCertSign) === 0) {
    return accessDenied('INTERMEDIATE_NO_KEY_CERT_SIGN', `${UNTRUSTED}: ${role} ${cert.subject} lacks the keyCertSign key usage`);
  }
  const pathLen = cert.basicConstraints.pathLen;
  if (pathLen !== undefined && below > pathLen) {
    return accessDenied(
      'PATH_LENGTH_EXCEEDED',
      `${UNTRUSTED}: ${role} ${cert.subject} allows ${pathLen} intermediate(s) below it; the chain has ${below}`,
    );
  }
  return undefined;
}

/**
 * The validated path [leaf, …intermediates, anchor CA], or the refusal. Intermediates must carry
 * CA:true and keyCertSign (a key usage extension is required on them, as the service's issuers
 * all have one); the anchor certificate must be a CA in date.
 */
export function buildChain(
  leaf: ParsedCert,
  intermediates: readonly ParsedCert[],
  anchors: readonly ParsedCert[],
  trustAnchorArn: string,
  now: number,
): ParsedCert[] | ServiceError {
  if (intermediates.length > MAX_INTERMEDIATES) {
    return accessDenied('CHAIN_TOO_LONG', `${UNTRUSTED}: at most ${MAX_INTERMEDIATES} intermediate certificates are accepted`);
  }
  const path = findPath([leaf], [...intermediates], anchors);
  if (!path) {
    const sent = intermediates.length ? ` or any of the ${intermediates.length} certificate(s) in X-Amz-X509-Chain` : '';
    return accessDenied(
      'CHAIN_UNTRUSTED',
      `${UNTRUSTED}: no path from ${leaf.subject} (issued by ${leaf.issuer}) to a CA certificate of trust anchor ${trustAnchorArn}${sent}`,
    );
  }
  // path = [leaf, i1, …, in, anchor]; issuer k (k ≥ 1) has k-1 intermediates below it.
  for (let k = 1; k < path.length; k++) {
    const cert = path[k]!;
    const role = k === path.length - 1 ? 'trust anchor certificate' : 'intermediate';
    if (role === 'intermediate' && cert.keyUsage === undefined) {
      return accessDenied('INTERMEDIATE_NO_KEY_CERT_SIGN', `${UNTRUSTED}: intermediate ${cert.subject} has no key usage extension (keyCertSign required)`);
    }
    const bad = checkIssuer(cert, role, k - 1) ?? inDate(cert, role, now);
    if (bad) return bad;
  }
  return path;
}
