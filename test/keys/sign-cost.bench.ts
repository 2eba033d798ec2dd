/**
 * Not a test: measures one signature through FileSigner.sign against a bare crypto.sign, median of
 * 2000 calls after a warm-up. Run: npx tsx test/keys/sign-cost.bench.ts
 */
import { constants, sign, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FileSigner } from '../../src/keys/file-signer.js';
import { issue } from '../helpers/pki.js';

const N = 2000;
const data = Buffer.from('AWS4-X509-RSA-SHA256\n20260101T000000Z\n20260101/us-east-1/rolesanywhere/aws4_request\n' + 'f'.repeat(64));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(f: () => unknown): Promise<number> {
  for (let i = 0; i < 200; i++) await f();
  const xs: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await f();
    xs.push(performance.now() - t);
  }
  return median(xs);
}

for (const kind of ['rsa', 'ec'] as const) {
  const leaf = await issue({ name: `bench-${kind}`, kind });
  const key: KeyObject = leaf.privateKey;
  const signer = new FileSigner(leaf.nodeCert, [], key, 'bench');
  const opts = kind === 'rsa' ? { key, padding: constants.RSA_PKCS1_PADDING } : { key, dsaEncoding: 'der' as const };
  // Alternate the two so drift on a shared machine hits both alike.
  const raw1 = await time(() => sign('sha256', data, opts));
  const via1 = await time(() => signer.sign(data));
  const raw2 = await time(() => sign('sha256', data, opts));
  const via2 = await time(() => signer.sign(data));
  const raw = Math.min(raw1, raw2);
  const via = Math.min(via1, via2);
  const label = kind === 'rsa' ? 'RSA-2048 ' : 'EC P-256 ';
  console.log(`${label} crypto.sign ${(raw * 1000).toFixed(1)} µs   FileSigner.sign ${(via * 1000).toFixed(1)} µs   overhead ${((via - raw) * 1000).toFixed(1)} µs`);
}
