/**
 * Key material of absurd size: a 50 MB certificate, key, intermediates or password file (a valid
 * PEM block padded out) took ~30 s each and was then accepted; /dev/zero never ended. Each is now
 * refused at once with an error naming the file and its size.
 */
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_KEY_MATERIAL_BYTES } from '../../src/keys/bounded-read.js';
import { loadSigner } from '../../src/keys/load.js';
import { readPassword } from '../../src/keys/password.js';
import type { KeyMaterialOptions } from '../../src/keys/options.js';
import { readCertificates } from '../../src/keys/pkcs11/pem.js';
import { issue, writePair, type WrittenPair } from '../helpers/pki.js';
import { makeTempDir } from '../helpers/tmp.js';

async function refusal(o: KeyMaterialOptions): Promise<{ code?: string; message: string }> {
  try {
    const s = await loadSigner(o, { env: {} });
    await s.close();
    return { message: 'accepted' };
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message };
  }
}

describe('key material over the size cap', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let pair: WrittenPair;
  let chain: string;
  /** A real PEM file followed by 50 MB of blank lines: still "valid" PEM to a lenient reader. */
  const padded = (name: string, pem: string) => {
    const p = join(tmp.dir, name);
    writeFileSync(p, pem + '\n'.repeat(50 * 1024 * 1024));
    return p;
  };

  before(async () => {
    tmp = makeTempDir('ra-size-');
    const root = await issue({ kind: 'ec', name: 'root', ca: true });
    const inter = await issue({ kind: 'ec', name: 'inter', ca: true, issuer: root });
    pair = writePair(tmp.dir, 'leaf', await issue({ kind: 'ec', name: 'leaf', issuer: inter }), [inter]);
    chain = inter.certPem;
  });
  after(() => tmp.cleanup());

  const cases: Array<[string, () => KeyMaterialOptions, () => string]> = [
    ['certificate', () => ({ certificate: padded('big-cert.pem', readPem(pair.certificate)), privateKey: pair.privateKey }), () => join(tmp.dir, 'big-cert.pem')],
    ['private key', () => ({ certificate: pair.certificate, privateKey: padded('big-key.pem', readPem(pair.privateKey)) }), () => join(tmp.dir, 'big-key.pem')],
    ['intermediates', () => ({ certificate: pair.certificate, privateKey: pair.privateKey, intermediates: padded('big-chain.pem', chain) }), () => join(tmp.dir, 'big-chain.pem')],
    ['certificate /dev/zero', () => ({ certificate: '/dev/zero', privateKey: pair.privateKey }), () => '/dev/zero'],
  ];
  for (const [what, options, file] of cases) {
    it(`refuses a ${what} over ${MAX_KEY_MATERIAL_BYTES / 1024 / 1024} MiB, naming the file`, async () => {
      const o = options();
      const started = Date.now();
      const r = await refusal(o);
      expect(r.message, 'the error').to.contain(file()).and.contain('key material is at most 1 MiB');
      expect(r.code, 'code').to.equal('FILE_UNREADABLE');
      expect(Date.now() - started, 'ms (generous)').to.be.below(10_000);
    });
  }

  it('refuses a password file over the cap', async () => {
    const big = join(tmp.dir, 'big.pass');
    writeFileSync(big, 'x'.repeat(MAX_KEY_MATERIAL_BYTES + 1));
    const r = await readPassword({ file: big }, {}).then(() => 'accepted', (e: unknown) => (e as Error).message);
    expect(r, 'the error').to.contain(big).and.contain('key material is at most 1 MiB');
  });

  it('the PKCS#11 certificate reader refuses the same files', () => {
    let message = '';
    try {
      readCertificates('/dev/zero');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.contain('/dev/zero').and.contain('key material is at most 1 MiB');
  });

  it('accepts key material just under the cap', async () => {
    const p = join(tmp.dir, 'under.pem');
    const pem = readPem(pair.certificate);
    writeFileSync(p, pem + '\n'.repeat(MAX_KEY_MATERIAL_BYTES - Buffer.byteLength(pem)));
    const r = await refusal({ certificate: p, privateKey: pair.privateKey });
    expect(r.message).to.equal('accepted');
  });
});

function readPem(path: string): string {
  return readFileSync(path, 'utf8');
}
