import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { verify } from 'node:crypto';
import { join } from 'node:path';
import { loadFileSigner, loadSigner } from '../../src/keys/load.js';
import type { PasswordSource } from '../../src/keys/options.js';
import { issue, type Issued } from '../helpers/pki.js';
import { openssl, thrown, write, useKeyFixtures } from './fixtures.js';
import { requireTools } from '../helpers/prerequisites.js';

const PW = 'p12 secret ü';

interface BundleOptions {
  leaf: Issued;
  /** Certificates added with -certfile, in this order. */
  certs?: Issued[];
  /** undefined: an empty password (`-passout pass:`). */
  password?: string;
  extra?: string[];
  name?: string;
}

function bundle(dir: string, o: BundleOptions): string {
  const name = o.name ?? 'bundle.p12';
  const out = join(dir, name);
  const args = ['pkcs12', '-export', '-in', write(dir, `${name}.crt`, o.leaf.certPem), '-inkey', write(dir, `${name}.key`, o.leaf.keyPem), '-out', out];
  if (o.certs?.length) args.push('-certfile', write(dir, `${name}.chain`, o.certs.map((c) => c.certPem).join('')));
  args.push('-passout', o.password === undefined ? 'pass:' : 'env:P12_PW', ...(o.extra ?? []));
  openssl(args, o.password === undefined ? {} : { P12_PW: o.password });
  return out;
}

/** What `openssl pkcs12 -info` says about a bundle (it prints to stderr), to prove a fixture is what its test claims. */
function info(path: string, password: string | undefined, legacy = false): string {
  const args = ['pkcs12', '-in', path, '-info', '-noout', '-passin', password === undefined ? 'pass:' : 'env:P12_PW'];
  if (legacy) args.push('-legacy');
  requireTools('openssl');
  const r = spawnSync('openssl', args, { env: { ...process.env, P12_PW: password ?? '' }, encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`;
}

describe('PKCS#12 bundles', () => {
  const { pki, tmp } = useKeyFixtures();

  interface Variant {
    name: string;
    extra: string[];
    /** Substrings `openssl pkcs12 -info` must print for the fixture. */
    expectInfo: string[];
    legacyInfo?: boolean;
  }
  const VARIANTS: Variant[] = [
    { name: 'OpenSSL 3 defaults', extra: [], expectInfo: ['MAC: sha256', 'PBES2, PBKDF2, AES-256-CBC', 'hmacWithSHA256'] },
    {
      name: '-legacy (40-bit RC2 certificates, 3DES key, SHA-1 MAC)',
      extra: ['-legacy'],
      expectInfo: ['MAC: sha1', 'pbeWithSHA1And40BitRC2-CBC', 'pbeWithSHA1And3-KeyTripleDES-CBC'],
      legacyInfo: true,
    },
    {
      name: '3DES everywhere with a SHA-1 MAC (no legacy provider needed)',
      extra: ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'],
      expectInfo: ['MAC: sha1', 'pbeWithSHA1And3-KeyTripleDES-CBC'],
    },
    {
      name: '2-key 3DES key and 128-bit RC4 certificates',
      extra: ['-legacy', '-keypbe', 'PBE-SHA1-2DES', '-certpbe', 'PBE-SHA1-RC4-128'],
      expectInfo: ['pbeWithSHA1And2-KeyTripleDES-CBC', 'pbeWithSHA1And128BitRC4'],
      legacyInfo: true,
    },
    {
      name: 'AES-128 with a SHA-512 MAC',
      extra: ['-keypbe', 'AES-128-CBC', '-certpbe', 'AES-128-CBC', '-macalg', 'sha512'],
      expectInfo: ['MAC: sha512', 'AES-128-CBC'],
    },
  ];

  for (const kind of ['rsa', 'ec'] as const) {
    for (const v of VARIANTS) {
      it(`reads a ${kind.toUpperCase()} bundle written with ${v.name}, taking leaf, key and chain from it`, async () => {
        const { leaf, intermediate, root } = pki[kind]!;
        const path = bundle(tmp.dir, { leaf, certs: [intermediate, root], password: PW, extra: v.extra });
        const text = info(path, PW, v.legacyInfo);
        for (const s of v.expectInfo) expect(text, 'openssl pkcs12 -info of the fixture').to.contain(s);

        const signer = await loadFileSigner({ certificate: path, password: { value: PW } }, {});
        expect(signer.certificate.raw.equals(leaf.nodeCert.raw), 'leaf is the certificate matching the key').to.equal(true);
        expect(signer.chain.map((c) => c.subject), 'chain is the intermediate; the self-signed root is left out').to.deep.equal([intermediate.nodeCert.subject]);
        expect(signer.description).to.equal(path);
        const data = Buffer.from('to sign');
        expect(verify('sha256', data, leaf.nodeCert.publicKey, await signer.sign(data))).to.equal(true);
      });
    }
  }

  it('reads a bundle with an empty password whether the password is absent or given as ""', async () => {
    const { leaf } = pki.ec!;
    const path = bundle(tmp.dir, { leaf });
    expect(info(path, undefined), 'fixture is encrypted under the empty password').to.contain('PBES2');
    const a = await loadFileSigner({ certificate: path }, {});
    const b = await loadFileSigner({ certificate: path, password: { value: '' } }, {});
    expect(a.certificate.raw.equals(leaf.nodeCert.raw)).to.equal(true);
    expect(b.certificate.raw.equals(leaf.nodeCert.raw)).to.equal(true);
  });

  it('reads an unencrypted bundle (-keypbe NONE -certpbe NONE)', async () => {
    const { leaf } = pki.rsa!;
    const path = bundle(tmp.dir, { leaf, extra: ['-keypbe', 'NONE', '-certpbe', 'NONE'] });
    expect(info(path, undefined)).to.contain('Key bag').and.not.contain('Shrouded');
    const signer = await loadFileSigner({ certificate: path }, {});
    expect(signer.certificate.raw.equals(leaf.nodeCert.raw)).to.equal(true);
    expect(signer.chain).to.have.length(0);
  });

  it('puts intermediates in issuer order whatever order the bundle holds them in', async () => {
    const root = await issue({ name: 'Order Root', kind: 'ec', ca: true });
    const upper = await issue({ name: 'Order Upper CA', kind: 'ec', ca: true, issuer: root });
    const lower = await issue({ name: 'Order Lower CA', kind: 'ec', ca: true, issuer: upper });
    const leaf = await issue({ name: 'order-leaf', kind: 'ec', issuer: lower });
    const path = bundle(tmp.dir, { leaf, certs: [root, upper, lower], password: PW });
    const signer = await loadSigner({ certificate: path, password: { value: PW } });
    expect(signer.chain.map((c) => c.subject)).to.deep.equal(['CN=Order Lower CA', 'CN=Order Upper CA']);
  });

  for (const legacy of [false, true]) {
    it(`fails with KEY_PASSWORD "could not decrypt" for a wrong password${legacy ? ' (-legacy bundle)' : ''}`, async () => {
      const path = bundle(tmp.dir, { leaf: pki.ec!.leaf, password: PW, extra: legacy ? ['-legacy'] : [] });
      const e = await thrown(() => loadFileSigner({ certificate: path, password: { value: 'not it' } }, {}));
      expect([e.code, e.message]).to.deep.equal(['KEY_PASSWORD', `could not decrypt ${path}: wrong password?`]);
    });
  }

  it('fails with KEY_PASSWORD for a wrong password on a bundle without a MAC (caught at decryption)', async () => {
    const path = bundle(tmp.dir, { leaf: pki.ec!.leaf, password: PW, extra: ['-nomac'] });
    expect(info(path, PW)).not.to.contain('MAC:');
    const ok = await loadFileSigner({ certificate: path, password: { value: PW } }, {});
    expect(ok.certificate.raw.equals(pki.ec!.leaf.nodeCert.raw)).to.equal(true);
    const e = await thrown(() => loadFileSigner({ certificate: path, password: { value: 'not it' } }, {}));
    expect([e.code, e.message]).to.deep.equal(['KEY_PASSWORD', `could not decrypt ${path}: wrong password?`]);
  });

  it('fails with KEY_PASSWORD and a hint when a protected bundle gets no password', async () => {
    const path = bundle(tmp.dir, { leaf: pki.ec!.leaf, password: PW });
    const e = await thrown(() => loadFileSigner({ certificate: path }, {}));
    expect(e.code).to.equal('KEY_PASSWORD');
    expect(e.message).to.equal(`PKCS#12 bundle ${path} is password-protected and no password was given`);
    expect(e.hint).to.contain('--private-key-password-env');
  });

  for (const [how, source, env] of [
    ['an environment variable', { env: 'BUNDLE_PW' }, { BUNDLE_PW: PW }],
    ['a file', undefined, {}],
  ] as [string, PasswordSource | undefined, NodeJS.ProcessEnv][]) {
    it(`takes the bundle password from ${how}`, async () => {
      const path = bundle(tmp.dir, { leaf: pki.rsa!.leaf, password: PW });
      const password = source ?? { file: write(tmp.dir, 'pw', `${PW}\n`) };
      const signer = await loadFileSigner({ certificate: path, password }, env);
      expect(signer.certificate.raw.equals(pki.rsa!.leaf.nodeCert.raw)).to.equal(true);
    });
  }

  it('recognises a bundle by its content when the name is not .p12/.pfx', async () => {
    const path = bundle(tmp.dir, { leaf: pki.ec!.leaf, password: PW });
    const renamed = join(tmp.dir, 'bundle.bin');
    copyFileSync(path, renamed);
    const signer = await loadFileSigner({ certificate: renamed, password: { value: PW } }, {});
    expect(signer.certificate.raw.equals(pki.ec!.leaf.nodeCert.raw)).to.equal(true);
  });

  it('refuses a private_key next to a bundle instead of guessing which key is meant', async () => {
    const path = bundle(tmp.dir, { leaf: pki.ec!.leaf, password: PW, name: 'b.pfx' });
    const key = write(tmp.dir, 'k.pem', pki.ec!.leaf.keyPem);
    const e = await thrown(() => loadFileSigner({ certificate: path, privateKey: key, password: { value: PW } }, {}));
    expect(e.code).to.equal('ARGUMENT_INVALID');
    expect(e.message).to.contain(path).and.contain('PKCS#12');
  });

  it('fails with KEY_INVALID naming the bundle when it holds no private key', async () => {
    const path = bundle(tmp.dir, { leaf: pki.ec!.leaf, password: PW, extra: ['-nokeys'] });
    const e = await thrown(() => loadFileSigner({ certificate: path, password: { value: PW } }, {}));
    expect([e.code, e.message]).to.deep.equal(['KEY_INVALID', `PKCS#12 bundle ${path} holds 0 private keys; expected exactly one`]);
  });

  it('fails with CERTIFICATE_INVALID for a .p12 file that is not a bundle', async () => {
    const path = write(tmp.dir, 'fake.p12', Buffer.from('not a bundle at all'));
    const e = await thrown(() => loadFileSigner({ certificate: path }, {}));
    expect([e.code, e.message]).to.deep.equal(['CERTIFICATE_INVALID', `${path} is not a PKCS#12 bundle`]);
  });
});
