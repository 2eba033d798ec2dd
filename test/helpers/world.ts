/**
 * A small world for integration tests: a temp dir, a test PKI (RSA and EC, root → intermediate →
 * leaf and leaf under root) written to files, and the strict emulator over HTTPS trusting both
 * roots, with ARNs that every role/profile combination accepts.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { quickConfig, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { makePki, writePair, type TestPki, type WrittenPair } from './pki.js';
import { makeTempDir } from './tmp.js';

export const TRUST_ANCHOR_ARN = 'arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/11111111-1111-4111-8111-111111111111';
export const PROFILE_ARN = 'arn:aws:rolesanywhere:us-east-1:111122223333:profile/22222222-2222-4222-8222-222222222222';
export const roleArn = (name: string) => `arn:aws:iam::111122223333:role/${name}`;
export const ROLES = ['app', 'backup', 'deploy', 'audit'].map(roleArn);

export interface World {
  dir: string;
  rsa: TestPki;
  ec: TestPki;
  /** RSA leaf under the intermediate, with the intermediate as a chain file. */
  rsaFiles: WrittenPair;
  /** EC leaf directly under the EC root. */
  ecFiles: WrittenPair;
  caBundle: string;
  emulator: Emulator;
  cleanup(): Promise<void>;
}

export async function makeWorld(o: { roles?: string[]; profileDurationSeconds?: number } = {}): Promise<World> {
  const { dir, cleanup } = makeTempDir('ra-world-');
  const [rsa, ec] = await Promise.all([makePki('rsa'), makePki('ec')]);
  const rsaFiles = writePair(dir, 'rsa', rsa.leaf, [rsa.intermediate]);
  const ecFiles = writePair(dir, 'ec', ec.directLeaf);
  const emulator = await startEmulator(
    quickConfig({
      trustAnchors: [{ arn: TRUST_ANCHOR_ARN, certificatePem: rsa.root.certPem }],
      profileArns: [PROFILE_ARN],
      roleArns: o.roles ?? ROLES,
      acceptRoleSessionName: true,
      ...(o.profileDurationSeconds ? { durationSeconds: o.profileDurationSeconds } : {}),
    }),
    // Plain HTTP too: a loopback http:// endpoint is allowed, for the emulator.
    { httpsPort: 0, httpPort: 0 },
  );
  // One trust anchor holding both roots.
  emulator.config.trustAnchors[0]!.certificates.push(ec.root.certPem);
  const caBundle = join(dir, 'emulator-ca.pem');
  writeFileSync(caBundle, emulator.caPem, { mode: 0o600 });
  return {
    dir,
    rsa,
    ec,
    rsaFiles,
    ecFiles,
    caBundle,
    emulator,
    cleanup: async () => {
      await emulator.stop();
      cleanup();
    },
  };
}
