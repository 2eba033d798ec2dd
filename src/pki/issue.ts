/**
 * Certificate issuing for the demo, the emulator's throwaway TLS identity and the tests: roots,
 * intermediates and leaves, RSA or EC, with knobs for every certificate the service must reject
 * (SHA-1, CA:true, no digitalSignature, out of date). Nothing here is used to handle a user's real
 * key material. Files are written with mode 0600.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto, KeyObject, X509Certificate } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type KeyKind = 'rsa' | 'ec';

export interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  kind: KeyKind;
  /** PEM of the certificate. */
  certPem: string;
  /** PKCS#8 PEM of the private key. */
  keyPem: string;
  /** node:crypto views, for tests that sign or verify. */
  nodeCert: X509Certificate;
  privateKey: KeyObject;
}

const RSA: RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};
const EC: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };

export async function generateKeys(kind: KeyKind): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(kind === 'rsa' ? RSA : EC, true, ['sign', 'verify'])) as CryptoKeyPair;
}

function signingAlgorithm(kind: KeyKind, hash: string): Algorithm {
  return kind === 'rsa' ? ({ name: 'RSASSA-PKCS1-v1_5', hash } as Algorithm) : ({ name: 'ECDSA', hash } as Algorithm);
}

/** WebCrypto binds an RSA key to one hash: re-import it for another (e.g. a SHA-1-signed test certificate). */
async function signingKeyFor(key: CryptoKey, kind: KeyKind, hash: string): Promise<CryptoKey> {
  if (kind !== 'rsa' || hash === 'SHA-256') return key;
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', key);
  return (await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['sign'])) as CryptoKey;
}

let serialCounter = BigInt(Date.now()) * 1000n;
function nextSerial(): string {
  serialCounter += 1n;
  let hex = serialCounter.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return hex;
}

export interface IssueOptions {
  /** Subject CN. */
  name: string;
  /** subjectAltName DNS names and IP addresses (for a TLS server certificate). */
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Add extendedKeyUsage serverAuth (TLS server certificate). */
  serverAuth?: boolean;
  kind?: KeyKind;
  /** Signed by this issuer; self-signed when absent. */
  issuer?: Issued;
  ca?: boolean;
  notBefore?: Date;
  notAfter?: Date;
  /** Key usages; default digitalSignature for leaves, keyCertSign|cRLSign for CAs. */
  keyUsages?: number;
  /** Leave the key usage extension out entirely. */
  noKeyUsage?: boolean;
  /** Hash the issuer signs with; default SHA-256. */
  hash?: 'SHA-1' | 'SHA-256' | 'SHA-384';
  /** Reuse an existing key pair (a renewed certificate for the same key). */
  keys?: CryptoKeyPair;
  serialHex?: string;
}

export async function issue(o: IssueOptions): Promise<Issued> {
  const kind = o.kind ?? 'rsa';
  const keys = o.keys ?? (await generateKeys(kind));
  const now = Date.now();
  const ca = o.ca ?? false;
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(ca, undefined, true)];
  if (!o.noKeyUsage) {
    const usages =
      o.keyUsages ?? (ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature);
    extensions.push(new x509.KeyUsagesExtension(usages, true));
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
  const names = [
    ...(o.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(o.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  if (o.serverAuth) extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false));
  if (o.issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(o.issuer.keys.publicKey));
  const signerKind = o.issuer?.kind ?? kind;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: o.serialHex ?? nextSerial(),
    subject: `CN=${o.name}`,
    issuer: o.issuer ? o.issuer.cert.subject : `CN=${o.name}`,
    notBefore: o.notBefore ?? new Date(now - 60 * 60 * 1000),
    // 90 days: longer than the agent's default 30-day expiry warning, so tests see none by default.
    notAfter: o.notAfter ?? new Date(now + 90 * 24 * 60 * 60 * 1000),
    signingAlgorithm: signingAlgorithm(signerKind, o.hash ?? 'SHA-256'),
    publicKey: keys.publicKey,
    signingKey: await signingKeyFor(o.issuer ? o.issuer.keys.privateKey : keys.privateKey, signerKind, o.hash ?? 'SHA-256'),
    extensions,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = toPem(pkcs8, 'PRIVATE KEY');
  const certPem = cert.toString('pem') + '\n';
  return {
    cert,
    keys,
    kind,
    certPem,
    keyPem,
    nodeCert: new X509Certificate(certPem),
    privateKey: KeyObject.from(keys.privateKey as unknown as webcrypto.CryptoKey),
  };
}

/** Writes a file with mode 0600 even when it already exists with a looser mode. */
export function writePrivate(path: string, data: string): void {
  writeFileSync(path, data, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function toPem(der: Buffer, label: string): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export interface TestPki {
  root: Issued;
  intermediate: Issued;
  /** Leaf under the intermediate. */
  leaf: Issued;
  /** Leaf directly under the root. */
  directLeaf: Issued;
}

/** root → intermediate → leaf, and a leaf directly under the root; all of one key kind. */
export async function makePki(kind: KeyKind, tag = kind): Promise<TestPki> {
  const root = await issue({ name: `Test Root ${tag}`, kind, ca: true, notAfter: new Date(Date.now() + 3650 * 864e5) });
  const intermediate = await issue({ name: `Test Intermediate ${tag}`, kind, ca: true, issuer: root });
  const leaf = await issue({ name: `leaf-${tag}.example.test`, kind, issuer: intermediate });
  const directLeaf = await issue({ name: `direct-${tag}.example.test`, kind, issuer: root });
  return { root, intermediate, leaf, directLeaf };
}

export interface WrittenPair {
  certificate: string;
  privateKey: string;
  intermediates?: string;
}

/** Writes a leaf's certificate and key (and optionally its intermediates) into dir, mode 0600. */
export function writePair(dir: string, name: string, leaf: Issued, intermediates: Issued[] = []): WrittenPair {
  const certificate = join(dir, `${name}.crt.pem`);
  const privateKey = join(dir, `${name}.key.pem`);
  writePrivate(certificate, leaf.certPem);
  writePrivate(privateKey, leaf.keyPem);
  const out: WrittenPair = { certificate, privateKey };
  if (intermediates.length) {
    out.intermediates = join(dir, `${name}.chain.pem`);
    writePrivate(out.intermediates, intermediates.map((c) => c.certPem).join(''));
  }
  return out;
}
