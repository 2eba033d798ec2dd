/**
 * Test-time key material for the keys tests, on top of test/helpers/pki.ts: the openssl CLI for
 * format conversions and PKCS#12 bundles (passwords only through env:, never in argv), certificates
 * re-signed with hand-edited TBS fields (X.509 v1, MD5), and small file helpers.
 */
import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, Version } from '@peculiar/asn1-x509';
import { execFileSync } from 'node:child_process';
import { sign, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePki, toPem, type Issued, type TestPki } from '../helpers/pki.js';
import { makeTempDir } from '../helpers/tmp.js';
import { requireTools } from '../helpers/prerequisites.js';

/**
 * Runs openssl. Refuses a non-empty `pass:` argument, so a test cannot put a password in a child's argv;
 * secrets go in `env` and are referenced as `env:NAME`.
 */
export function openssl(args: string[], env: Record<string, string> = {}): Buffer {
  requireTools('openssl');
  for (const a of args) if (/^pass:./.test(a)) throw new Error(`test bug: password in argv (${a.slice(0, 5)}…)`);
  return execFileSync('openssl', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function write(dir: string, name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

export interface ResignOptions {
  /** Make it an X.509 v1 certificate (no extensions). */
  v1?: boolean;
  /** Hash for the new signature; the issuer must be RSA for md5. */
  hash?: 'md5' | 'sha1' | 'sha256';
}

const RSA_SIG_OIDS = { md5: '1.2.840.113549.1.1.4', sha1: '1.2.840.113549.1.1.5', sha256: '1.2.840.113549.1.1.11' };

/** A copy of `cert` with edited TBS fields, signed again by `issuerKey` (an RSA key). */
export function resign(cert: Issued, issuerKey: KeyObject, o: ResignOptions): string {
  const asn = AsnConvert.parse(cert.nodeCert.raw, Certificate);
  const tbs = asn.tbsCertificate;
  if (o.v1) {
    tbs.version = Version.v1;
    delete tbs.extensions;
  }
  const hash = o.hash ?? 'sha256';
  const alg = () => new AlgorithmIdentifier({ algorithm: RSA_SIG_OIDS[hash], parameters: null });
  tbs.signature = alg();
  asn.signatureAlgorithm = alg();
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const sig = sign(hash, tbsDer, issuerKey);
  asn.signatureValue = new Uint8Array(sig).buffer;
  return toPem(Buffer.from(AsnConvert.serialize(asn)), 'CERTIFICATE');
}

/** Runs f and returns what it threw (or fails the test when it did not throw). */
export async function thrown(f: () => unknown): Promise<Error & { code?: string; hint?: string }> {
  try {
    await f();
  } catch (e) {
    return e as Error & { code?: string; hint?: string };
  }
  throw new Error('expected an error, but nothing was thrown');
}

/**
 * The key tests' common setup: an RSA and an EC test PKI made once per describe, and a fresh temp
 * dir per test (`tmp.dir` always names the current test's).
 */
export function useKeyFixtures() {
  const pki: Partial<Record<'rsa' | 'ec', TestPki>> = {};
  let current: ReturnType<typeof makeTempDir> | undefined;
  before(async () => {
    pki.rsa = await makePki('rsa');
    pki.ec = await makePki('ec');
  });
  beforeEach(() => (current = makeTempDir()));
  afterEach(() => current?.cleanup());
  return {
    pki,
    tmp: {
      get dir(): string {
        return current!.dir;
      },
    },
    rsa: () => pki.rsa!,
    ec: () => pki.ec!,
  };
}
