import { expect } from 'chai';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { openPkcs11Signer } from '../../../src/keys/pkcs11/signer.js';
import { Pkcs11Registry } from '../../../src/keys/pkcs11/registry.js';
import type { Signer } from '../../../src/keys/signer.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { signAndVerify, testPkis, type Pkis } from './fixtures.js';
import { startSoftTpm, TPM2_PKCS11_MODULE, type SoftTpm } from './swtpm.js';

// Only right PINs here: a software TPM locks after three wrong ones (wrong PINs are tested on SoftHSM).
describe('PKCS#11 signer on a software TPM 2.0 (swtpm + tpm2-pkcs11)', function () {
  this.timeout(90_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let tpm: SoftTpm;
  let pki: Pkis;
  const opened: Signer[] = [];

  before(async function () {
    tmp = makeTempDir('ra-tpm-');
    pki = await testPkis();
    tpm = await startSoftTpm(tmp.dir);
    for (const kind of ['rsa', 'ec'] as const) {
      const key = join(tmp.dir, `${kind}.key.pem`);
      const cert = join(tmp.dir, `${kind}.crt.pem`);
      writeFileSync(key, pki[kind].leaf.keyPem, { mode: 0o600 });
      writeFileSync(cert, pki[kind].leaf.certPem);
      const common = [`--path=${tpm.store}`, `--label=${tpm.label}`, `--key-label=${kind}`];
      await tpm.ptool(['import', ...common, `--userpin=${tpm.userPin}`, `--privkey=${key}`, `--algorithm=${kind === 'rsa' ? 'rsa' : 'ecc'}`]);
      await tpm.ptool(['addcert', ...common, cert]);
    }
  });

  after(async function () {
    for (const s of opened) await s.close();
    await tpm?.stop();
    tmp?.cleanup();
  });

  for (const kind of ['rsa', 'ec'] as const) {
    it(`signs with an ${kind.toUpperCase()} key held by the TPM, certificate found on the token by the key's id, and the signature verifies`, async () => {
      const signer = await openPkcs11Signer(
        { certificate: `pkcs11:token=${tpm.label};type=cert`, privateKey: `pkcs11:token=${tpm.label};object=${kind};type=private`, pkcs11Lib: TPM2_PKCS11_MODULE, pin: { env: 'TPM_PIN' } },
        { registry: new Pkcs11Registry(), env: { TPM_PIN: tpm.userPin } },
      );
      opened.push(signer);
      expect(signer.algorithm).to.equal(kind === 'rsa' ? 'AWS4-X509-RSA-SHA256' : 'AWS4-X509-ECDSA-SHA256');
      expect(signer.certificate.fingerprint256).to.equal(pki[kind].leaf.nodeCert.fingerprint256);
      for (let i = 0; i < 3; i++) expect(await signAndVerify(signer, Buffer.from(`tpm request ${i}`)), `signature ${i}`).to.equal(true);
    });
  }
});
