/**
 * Cost of one signature: the same key through SoftHSM (the agent's full path: queue, C_SignInit,
 * C_SignAsync, DER conversion; and a bare synchronous C_Sign for comparison) and in a file
 * (node:crypto with the parsed KeyObject). Median and p95 over N calls after a warm-up.
 * Run: node --import tsx test/keys/pkcs11/bench.ts [N]   (not part of the test suite)
 */
import { createPrivateKey, sign } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { openPkcs11Signer } from '../../../src/keys/pkcs11/signer.js';
import { Pkcs11Registry } from '../../../src/keys/pkcs11/registry.js';
import { makePki } from '../../helpers/pki.js';
import { SOFTHSM_MODULE, SoftHsm } from '../../helpers/softhsm.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { spyPkcs11 } from './spy.js';

const N = Number(process.argv[2] ?? 1000);

async function timeIt(fn: () => unknown): Promise<{ median: number; p95: number }> {
  for (let i = 0; i < 50; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(N / 2)]!, p95: times[Math.floor(N * 0.95)]! };
}

const fmt = (r: { median: number; p95: number }) => `median ${r.median.toFixed(3)} ms, p95 ${r.p95.toFixed(3)} ms`;

const tmp = makeTempDir('ra-bench-');
try {
  const hsm = SoftHsm.create(tmp.dir);
  const data = Buffer.from('AWS4-X509-RSA-SHA256\n20300101T000000Z\n20300101/us-east-1/rolesanywhere/aws4_request\n' + 'f'.repeat(64));
  for (const kind of ['rsa', 'ec'] as const) {
    const pki = await makePki(kind);
    const token = hsm.initToken(`bench-${kind}`);
    hsm.writeKey(token, pki.leaf.privateKey, { id: Buffer.from([1]), label: 'leaf' });
    const spy = spyPkcs11();
    const registry = new Pkcs11Registry({ load: spy.load });
    const certificate = `${tmp.dir}/${kind}.pem`;
    (await import('node:fs')).writeFileSync(certificate, pki.leaf.certPem);
    const signer = await openPkcs11Signer(
      { certificate, privateKey: `pkcs11:token=bench-${kind};object=leaf`, pkcs11Lib: SOFTHSM_MODULE, pin: { value: token.pin } },
      { registry, env: {} },
    );
    const fileKey = createPrivateKey(pki.leaf.keyPem);
    const viaSigner = await timeIt(() => signer.sign(data));
    const viaFile = await timeIt(() => sign('sha256', data, fileKey));

    const api = await spy.api();
    const lib = spy.instances[0]!;
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === `bench-${kind}`)!;
    const session = lib.C_OpenSession(slot, api.CKF_SERIAL_SESSION);
    lib.C_FindObjectsInit(session, [{ type: api.CKA_CLASS, value: api.CKO_PRIVATE_KEY }]);
    const key = lib.C_FindObjects(session, 1)[0]!;
    lib.C_FindObjectsFinal(session);
    const mech = { mechanism: kind === 'rsa' ? api.CKM_SHA256_RSA_PKCS : api.CKM_ECDSA };
    const input = kind === 'rsa' ? data : (await import('node:crypto')).createHash('sha256').update(data).digest();
    const bare = await timeIt(() => {
      lib.C_SignInit(session, mech, key);
      return lib.C_Sign(session, input, Buffer.alloc(1024));
    });
    lib.C_CloseSession(session);
    await signer.close();

    const label = kind === 'rsa' ? 'RSA-2048' : 'EC P-256';
    console.log(`${label}: SoftHSM via signer.sign()  ${fmt(viaSigner)}`);
    console.log(`${label}: SoftHSM bare sync C_Sign    ${fmt(bare)}`);
    console.log(`${label}: file key, node:crypto       ${fmt(viaFile)}`);
  }
} finally {
  tmp.cleanup();
}
