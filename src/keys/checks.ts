/**
 * The checks run on key material before any network call, so a certificate the service would reject
 * fails here with the file named and the fix spelled out instead of as a bare 403. They take any
 * Signer (files and PKCS#11 tokens alike): the key-match check signs a random probe and verifies it
 * with the certificate's public key, and compares public keys directly for keys held in memory.
 */
import { constants, randomBytes, verify, type X509Certificate } from 'node:crypto';
import { AgentError } from '../errors.js';
import { certificateFacts, describeCertificate, isoSeconds, oneLineName, type SignatureHash } from './certificates.js';
import { FileSigner } from './file-signer.js';
import type { Signer } from './signer.js';

/** The files the material came from, for messages. For a PKCS#12 bundle `certificate` is the bundle. */
export interface CheckSource {
  certificate: string;
  intermediates?: string;
}

/** The service's limit on X-Amz-X509-Chain. */
export const MAX_INTERMEDIATES = 5;

/** Throws the first problem found; the order puts the commonest (expiry, rotation mix-ups) first. */
export async function checkSigner(signer: Signer, now: number, source: CheckSource): Promise<void> {
  checkValidity(signer.certificate, now, source.certificate);
  checkServiceRules(signer.certificate, source.certificate);
  await checkKeyMatches(signer, source.certificate);
  checkChain(signer.certificate, signer.chain, now, source);
}

/** Every problem rather than the first, for `validate`. Errors that are not AgentErrors still throw. */
export async function listProblems(signer: Signer, now: number, source: CheckSource): Promise<AgentError[]> {
  const problems: AgentError[] = [];
  const attempt = async (f: () => unknown) => {
    try {
      await f();
    } catch (e) {
      if (!(e instanceof AgentError)) throw e;
      problems.push(e);
    }
  };
  await attempt(() => checkValidity(signer.certificate, now, source.certificate));
  await attempt(() => checkServiceRules(signer.certificate, source.certificate));
  await attempt(() => checkKeyMatches(signer, source.certificate));
  await attempt(() => checkChain(signer.certificate, signer.chain, now, source));
  return problems;
}

export function checkValidity(cert: X509Certificate, now: number, where: string): void {
  const { notBefore, notAfter } = certificateFacts(cert);
  if (now > notAfter.getTime()) {
    throw new AgentError('CERTIFICATE_EXPIRED', `certificate ${where} expired ${isoSeconds(notAfter)}`, {
      hint: 'renew it or point certificate: at the new file',
    });
  }
  if (now < notBefore.getTime()) {
    throw new AgentError(
      'CERTIFICATE_NOT_YET_VALID',
      `certificate ${where} is not valid until ${isoSeconds(notBefore)} (this machine's clock says ${isoSeconds(now)})`,
      { hint: "if it was issued moments ago, wait; otherwise check this machine's clock (timedatectl, NTP)" },
    );
  }
}

const WEAK_HASHES: Partial<Record<SignatureHash, string>> = { md2: 'MD2', md4: 'MD4', md5: 'MD5', sha1: 'SHA-1' };

/**
 * What the service demands of an end-entity certificate: X.509 v3, not a CA, the digitalSignature key
 * usage, and a signature hash stronger than MD5/SHA-1. A certificate with no keyUsage extension at all
 * fails too: the service rejects certificates "lacking the digitalSignature key usage", and an absent
 * extension lacks it.
 */
export function checkServiceRules(cert: X509Certificate, where: string): void {
  const facts = certificateFacts(cert);
  const rejected = (what: string, why: string, hint: string) =>
    new AgentError('CERTIFICATE_REJECTED', `certificate ${where} ${what}; IAM Roles Anywhere would reject it: ${why}`, { hint });
  if (facts.version !== 3) {
    throw rejected(`is an X.509 v${facts.version} certificate`, 'it accepts only X.509 v3 certificates', 'issue it again as v3 with basicConstraints CA:FALSE and keyUsage digitalSignature');
  }
  if (facts.ca) {
    throw rejected(
      'is a CA certificate (basicConstraints CA:TRUE)',
      'a CA certificate cannot be the end-entity certificate',
      'point certificate: at the end-entity certificate issued for this key, or issue one with CA:FALSE',
    );
  }
  if (!facts.keyUsage) {
    throw rejected('has no keyUsage extension', 'it requires the digitalSignature key usage', 'issue it again with keyUsage = critical, digitalSignature');
  }
  if (!facts.keyUsage.digitalSignature) {
    throw rejected('has a keyUsage without digitalSignature', 'it requires the digitalSignature key usage', 'issue it again with keyUsage = critical, digitalSignature');
  }
  const weak = WEAK_HASHES[facts.signatureHash];
  if (weak) {
    throw rejected(`is signed with ${weak}`, 'it rejects certificates signed with MD5 or SHA-1', 'have the CA sign it again with SHA-256 or stronger');
  }
}

/**
 * Compares public keys for a FileSigner; otherwise signs 32 random bytes and verifies the signature
 * with the certificate's key, which proves the same thing for a key that never leaves a token.
 */
export async function checkKeyMatches(signer: Signer, where: string): Promise<void> {
  const cert = signer.certificate;
  const mismatch = (cause?: unknown) =>
    new AgentError('KEY_MISMATCH', `private key ${signer.description} does not match certificate ${where}`, {
      cause,
      hint: 'point private_key at the key this certificate was issued for, or certificate at the certificate issued for this key',
    });
  // Only a FileSigner's public key is derived from the private key itself; a token's public key
  // object could be stale, so anything else proves possession by signing.
  if (signer instanceof FileSigner) {
    const a = signer.publicKey.export({ type: 'spki', format: 'der' });
    const b = cert.publicKey.export({ type: 'spki', format: 'der' });
    if (!a.equals(b)) throw mismatch();
    return;
  }
  const probe = randomBytes(32);
  const signature = await signer.sign(probe);
  let ok: boolean;
  try {
    const key = cert.publicKey;
    ok =
      key.asymmetricKeyType === 'rsa'
        ? verify('sha256', probe, { key, padding: constants.RSA_PKCS1_PADDING }, signature)
        : verify('sha256', probe, { key, dsaEncoding: 'der' }, signature);
  } catch (e) {
    throw mismatch(e);
  }
  if (!ok) throw mismatch();
}

/**
 * The chain as the service will walk it: the leaf's issuer first, each certificate signed by the
 * next, every one a CA and in date, at most five.
 */
export function checkChain(leaf: X509Certificate, chain: readonly X509Certificate[], now: number, source: CheckSource): void {
  const file = source.intermediates ?? `the intermediates in ${source.certificate}`;
  const invalid = (message: string, hint: string) => new AgentError('CHAIN_INVALID', `${file}: ${message}`, { hint });
  if (chain.length > MAX_INTERMEDIATES) {
    throw invalid(
      `${chain.length} intermediate certificates; IAM Roles Anywhere accepts at most ${MAX_INTERMEDIATES}`,
      'leave out the root and anything above the trust anchor',
    );
  }
  const label = (i: number) => `intermediate ${i + 1} (${oneLineName(chain[i]?.subject ?? '')})`;
  for (let i = 0; i < chain.length; i++) {
    const child = i === 0 ? leaf : (chain[i - 1] as X509Certificate);
    const parent = chain[i] as X509Certificate;
    const childLabel = i === 0 ? `certificate ${source.certificate}` : label(i - 1);
    if (child.issuer !== parent.subject) {
      throw invalid(
        `${label(i)} is not the issuer of ${childLabel}, which was issued by ${oneLineName(child.issuer)}`,
        'order the intermediates from the one that issued the leaf up towards the root, and leave out unrelated certificates',
      );
    }
    let signed = false;
    try {
      signed = child.verify(parent.publicKey);
    } catch {
      signed = false;
    }
    if (!signed) {
      throw invalid(
        `the signature on ${childLabel} does not verify with the key of ${label(i)} (same name, different key?)`,
        'use the intermediate certificate that actually issued it; your CA publishes the current one',
      );
    }
    if (!certificateFacts(parent).ca) {
      throw invalid(`${label(i)} is not a CA certificate (no basicConstraints CA:TRUE)`, 'intermediates must be CA certificates; remove it or use the right one');
    }
    const { notBefore, notAfter } = describeCertificate(parent);
    if (now > notAfter.getTime()) {
      throw invalid(`${label(i)} expired ${isoSeconds(notAfter)}`, 'get the current intermediate certificate from your CA');
    }
    if (now < notBefore.getTime()) {
      throw invalid(`${label(i)} is not valid until ${isoSeconds(notBefore)}`, "check this machine's clock, or use the intermediate that is valid now");
    }
  }
}
