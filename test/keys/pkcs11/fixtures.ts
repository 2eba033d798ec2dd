/**
 * Shared set-up for the SoftHSM tests: a fresh temp dir and SoftHSM store per test, a spied
 * pkcs11js, a registry on a manual clock, a log of the signer's warnings, and every signer opened
 * through `open` closed after the test (so the library is finalised before the next test's store).
 */
import { verify, type X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAgentError, type AgentError } from '../../../src/errors.js';
import { openPkcs11Signer, type Pkcs11SignerDeps } from '../../../src/keys/pkcs11/signer.js';
import { Pkcs11Registry } from '../../../src/keys/pkcs11/registry.js';
import type { KeyMaterialOptions } from '../../../src/keys/options.js';
import type { Signer } from '../../../src/keys/signer.js';
import { ManualClock } from '../../../src/time/clock.js';
import { makePki, type TestPki } from '../../helpers/pki.js';
import { SOFTHSM_MODULE, SoftHsm, type HsmToken } from '../../helpers/softhsm.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { spyPkcs11, type Spy } from './spy.js';

export interface Pkis {
  rsa: TestPki;
  ec: TestPki;
  /**
   * An unrelated EC chain with the same names as `ec` but other keys: certificates that match by
   * subject and issuer alone, and must still not be picked.
   */
  other: TestPki;
}

let pkis: Promise<Pkis> | undefined;
/** Generated once per test process: RSA key generation is the slow part of these tests. */
export function testPkis(): Promise<Pkis> {
  pkis ??= Promise.all([makePki('rsa'), makePki('ec'), makePki('ec')]).then(([rsa, ec, other]) => ({ rsa, ec, other }));
  return pkis;
}

export interface HsmContext {
  dir: string;
  hsm: SoftHsm;
  spy: Spy;
  clock: ManualClock;
  registry: Pkcs11Registry;
  logs: { level: string; msg: string }[];
  open(options: Partial<KeyMaterialOptions> & { privateKey?: string }, deps?: Pkcs11SignerDeps): Promise<Signer>;
  /** Writes a file in the test's temp dir (mode 0600) and returns its path. */
  write(name: string, data: string | Buffer): string;
}

export function useSoftHsm(): HsmContext {
  const ctx = {} as HsmContext;
  let cleanup: () => void = () => undefined;
  let opened: Signer[] = [];
  beforeEach(function () {
    const tmp = makeTempDir('ra-pkcs11-');
    cleanup = tmp.cleanup;
    opened = [];
    ctx.dir = tmp.dir;
    ctx.hsm = SoftHsm.create(tmp.dir);
    ctx.spy = spyPkcs11();
    ctx.clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    ctx.registry = new Pkcs11Registry({ load: ctx.spy.load, clock: ctx.clock });
    ctx.logs = [];
    ctx.write = (name, data) => {
      const p = join(tmp.dir, name);
      writeFileSync(p, data, { mode: 0o600 });
      return p;
    };
    ctx.open = async (options, deps = {}) => {
      const s = await openPkcs11Signer(
        { certificate: '', pkcs11Lib: SOFTHSM_MODULE, ...options } as KeyMaterialOptions,
        { registry: ctx.registry, env: {}, logger: (level, msg) => ctx.logs.push({ level, msg }), ...deps },
      );
      opened.push(s);
      return s;
    };
  });
  afterEach(async function () {
    for (const s of opened) await s.close();
    cleanup();
  });
  return ctx;
}

export function keyUri(t: HsmToken, object = 'leaf', extra = ''): string {
  return `pkcs11:token=${encodeURIComponent(t.label)};object=${object};type=private${extra}`;
}

/** True when `signature` over `data` verifies with the certificate's key (ECDSA as DER). */
export function verifies(cert: X509Certificate, data: Buffer, signature: Buffer): boolean {
  return verify('sha256', data, { key: cert.publicKey, dsaEncoding: 'der' }, signature);
}

export async function signAndVerify(signer: Signer, data = Buffer.from('string to sign')): Promise<boolean> {
  return verifies(signer.certificate, data, await signer.sign(data));
}

/** The AgentError `p` rejects with; anything else (or resolving) fails the test. */
export async function rejection(p: Promise<unknown>): Promise<AgentError> {
  try {
    await p;
  } catch (e) {
    if (isAgentError(e)) return e;
    throw e;
  }
  throw new Error('expected the promise to reject with an AgentError, and it resolved');
}
