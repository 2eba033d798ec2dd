import { expect } from 'chai';
import { createPrivateKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { EncryptedPrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { loadFileSigner } from '../../src/keys/load.js';
import { PbeFailed, decryptPbe, passwordBytes } from '../../src/keys/pbe.js';
import { splitPem } from '../../src/keys/pem.js';
import type { PasswordSource } from '../../src/keys/options.js';

import { openssl, thrown, write, useKeyFixtures } from './fixtures.js';

const PW = 'correct horse battery staple';

/** Each way a key file can be written, by a function of (dir, PKCS#8 PEM path, key) returning the file. */
interface Format {
  name: string;
  only?: 'rsa' | 'ec';
  encrypted: boolean;
  make(dir: string, pkcs8: string, key: KeyObject): string;
}

const pwEnv = { KEY_PW: PW };

function readPem(path: string): Buffer {
  const [block] = splitPem(readFileSync(path, 'utf8'));
  if (!block) throw new Error(`no PEM block in ${path}`);
  return block.der;
}
const FORMATS: Format[] = [
  { name: 'PKCS#8 PEM', encrypted: false, make: (_d, p) => p },
  {
    name: 'traditional PEM (PKCS#1 for RSA, SEC1 for EC)',
    encrypted: false,
    make: (d, p) => {
      openssl(['pkey', '-in', p, '-traditional', '-out', join(d, 'trad.pem')]);
      return join(d, 'trad.pem');
    },
  },
  {
    name: 'SEC1 PEM after an EC PARAMETERS block',
    only: 'ec',
    encrypted: false,
    make: (d, p) => {
      const params = openssl(['ecparam', '-name', 'prime256v1']);
      const sec1 = openssl(['pkey', '-in', p, '-traditional']);
      return write(d, 'with-params.pem', Buffer.concat([params, sec1]));
    },
  },
  { name: 'DER PKCS#8', encrypted: false, make: (d, _p, k) => write(d, 'key.der', k.export({ type: 'pkcs8', format: 'der' })) },
  {
    name: 'encrypted PKCS#8 from node (PBES2, AES-256-CBC)',
    encrypted: true,
    make: (d, _p, k) => write(d, 'enc.pem', k.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PW })),
  },
  {
    name: 'encrypted PKCS#8 with scrypt',
    encrypted: true,
    make: (d, p) => {
      openssl(['pkcs8', '-topk8', '-scrypt', '-in', p, '-out', join(d, 'scrypt.pem'), '-passout', 'env:KEY_PW'], pwEnv);
      return join(d, 'scrypt.pem');
    },
  },
  {
    name: 'encrypted PKCS#8 with AES-128 and PBKDF2-HMAC-SHA512',
    encrypted: true,
    make: (d, p) => {
      openssl(['pkcs8', '-topk8', '-v2', 'aes-128-cbc', '-v2prf', 'hmacWithSHA512', '-in', p, '-out', join(d, 'a128.pem'), '-passout', 'env:KEY_PW'], pwEnv);
      return join(d, 'a128.pem');
    },
  },
  {
    name: 'encrypted PKCS#8 with PBES2 3DES',
    encrypted: true,
    make: (d, p) => {
      openssl(['pkcs8', '-topk8', '-v2', 'des3', '-in', p, '-out', join(d, 'des3.pem'), '-passout', 'env:KEY_PW'], pwEnv);
      return join(d, 'des3.pem');
    },
  },
  {
    name: 'encrypted PKCS#8 with the PKCS#12 PBE SHA1-3DES',
    encrypted: true,
    make: (d, p) => {
      openssl(['pkcs8', '-topk8', '-v1', 'PBE-SHA1-3DES', '-in', p, '-out', join(d, 'v1.pem'), '-passout', 'env:KEY_PW'], pwEnv);
      return join(d, 'v1.pem');
    },
  },
  {
    name: 'encrypted PKCS#8 with the PKCS#12 PBE SHA1-RC2-40 (legacy)',
    encrypted: true,
    make: (d, p) => {
      const out = join(d, 'rc2.pem');
      openssl(['pkcs8', '-topk8', '-provider', 'legacy', '-provider', 'default', '-v1', 'PBE-SHA1-RC2-40', '-in', p, '-out', out, '-passout', 'env:KEY_PW'], pwEnv);
      return out;
    },
  },
  {
    name: 'encrypted PKCS#8 as DER',
    encrypted: true,
    make: (d, _p, k) => write(d, 'enc.der', k.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: PW })),
  },
  {
    name: 'legacy OpenSSL-encrypted PEM (Proc-Type: 4,ENCRYPTED, AES-256)',
    encrypted: true,
    make: (d, p) => {
      openssl(['pkey', '-in', p, '-traditional', '-aes256', '-out', join(d, 'legacy.pem'), '-passout', 'env:KEY_PW'], pwEnv);
      return join(d, 'legacy.pem');
    },
  },
  {
    name: 'legacy OpenSSL-encrypted PEM (DES-EDE3-CBC)',
    encrypted: true,
    make: (d, p) => {
      openssl(['pkey', '-in', p, '-traditional', '-des3', '-out', join(d, 'legacy3.pem'), '-passout', 'env:KEY_PW'], pwEnv);
      return join(d, 'legacy3.pem');
    },
  },
];

describe('private keys from files', () => {
  const { pki, tmp } = useKeyFixtures();

  function files(kind: 'rsa' | 'ec') {
    const leaf = pki[kind]!.leaf;
    return { leaf, cert: write(tmp.dir, 'cert.pem', leaf.certPem), pkcs8: write(tmp.dir, 'key.pem', leaf.keyPem) };
  }

  for (const kind of ['rsa', 'ec'] as const) {
    for (const f of FORMATS.filter((x) => !x.only || x.only === kind)) {
      it(`reads a ${kind.toUpperCase()} key as ${f.name}`, async () => {
        const { leaf, cert, pkcs8 } = files(kind);
        const keyPath = f.make(tmp.dir, pkcs8, leaf.privateKey);
        const password: PasswordSource | undefined = f.encrypted ? { value: PW } : undefined;
        const signer = await loadFileSigner({ certificate: cert, privateKey: keyPath, password }, {});
        expect(signer.publicKey.equals(leaf.nodeCert.publicKey), 'public key of the parsed key equals the certificate key').to.equal(true);
        expect(signer.algorithm).to.equal(kind === 'rsa' ? 'AWS4-X509-RSA-SHA256' : 'AWS4-X509-ECDSA-SHA256');
        expect(signer.description).to.equal(keyPath);
        const data = Buffer.from('string to sign');
        const sig = await signer.sign(data);
        expect(verify('sha256', data, leaf.nodeCert.publicKey, sig), 'signature verifies with the certificate key').to.equal(true);
      });
    }
  }

  describe('passwords', () => {
    function encryptedKey(kind: 'rsa' | 'ec' = 'ec') {
      const { leaf, cert } = files(kind);
      const key = write(tmp.dir, 'enc.pem', leaf.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PW }));
      return { cert, key };
    }

    it('takes the password from an environment variable', async () => {
      const { cert, key } = encryptedKey();
      const signer = await loadFileSigner({ certificate: cert, privateKey: key, password: { env: 'MY_KEY_PW' } }, { MY_KEY_PW: PW });
      expect(signer.description).to.equal(key);
    });

    it('takes the password from a file with a trailing newline', async () => {
      const { cert, key } = encryptedKey();
      const pwFile = write(tmp.dir, 'pw.txt', `${PW}\n`);
      const signer = await loadFileSigner({ certificate: cert, privateKey: key, password: { file: pwFile } }, {});
      expect(signer.description).to.equal(key);
    });

    it('does not read the password source for an unencrypted key', async () => {
      const { cert, pkcs8 } = files('ec');
      const signer = await loadFileSigner({ certificate: cert, privateKey: pkcs8, password: { env: 'UNSET_VARIABLE' } }, {});
      expect(signer.description).to.equal(pkcs8);
    });

    it('fails with KEY_PASSWORD and a hint naming the three ways when an encrypted key has no password', async () => {
      const { cert, key } = encryptedKey();
      const e = await thrown(() => loadFileSigner({ certificate: cert, privateKey: key }, {}));
      expect(e.code).to.equal('KEY_PASSWORD');
      expect(e.message).to.equal(`private key ${key} is encrypted and no password was given`);
      expect(e.hint).to.contain('--private-key-password-file').and.contain('--private-key-password-env').and.contain('--pkcs8-password');
    });

    for (const kind of ['rsa', 'ec'] as const) {
      it(`fails with KEY_PASSWORD "could not decrypt" for a wrong password (${kind}, PKCS#8), never echoing it`, async () => {
        const { cert, key } = encryptedKey(kind);
        const e = await thrown(() => loadFileSigner({ certificate: cert, privateKey: key, password: { value: 'wrong-guess' } }, {}));
        expect(e.code).to.equal('KEY_PASSWORD');
        expect(e.message).to.equal(`could not decrypt ${key}: wrong password?`);
        expect(`${e.message} ${e.hint}`).not.to.contain('wrong-guess');
      });
    }

    it('fails with KEY_PASSWORD for a wrong password on a legacy Proc-Type key, and for a missing one', async () => {
      const { cert, pkcs8 } = files('rsa');
      const key = join(tmp.dir, 'legacy.pem');
      openssl(['pkey', '-in', pkcs8, '-traditional', '-aes256', '-out', key, '-passout', 'env:KEY_PW'], pwEnv);
      expect(readFileSync(key, 'utf8')).to.contain('Proc-Type: 4,ENCRYPTED');
      const wrong = await thrown(() => loadFileSigner({ certificate: cert, privateKey: key, password: { value: 'nope' } }, {}));
      expect([wrong.code, wrong.message]).to.deep.equal(['KEY_PASSWORD', `could not decrypt ${key}: wrong password?`]);
      const missing = await thrown(() => loadFileSigner({ certificate: cert, privateKey: key }, {}));
      expect([missing.code, missing.message]).to.deep.equal(['KEY_PASSWORD', `private key ${key} is encrypted and no password was given`]);
    });

    it('reports a wrong password that happens to leave valid CBC padding as KEY_PASSWORD, not as a bad key', async () => {
      const { cert, key } = encryptedKey('ec');
      const info = AsnConvert.parse(readPem(key), EncryptedPrivateKeyInfo);
      // About 1 wrong password in 256 decrypts to garbage with valid padding; find one.
      let lucky: string | undefined;
      for (let i = 0; i < 5000 && !lucky; i++) {
        try {
          decryptPbe(info.encryptionAlgorithm, Buffer.from(info.encryptedData.buffer), passwordBytes(`guess-${i}`));
          lucky = `guess-${i}`;
        } catch (e) {
          if (!(e instanceof PbeFailed)) throw e;
        }
      }
      expect(lucky, 'a wrong password with valid padding exists among the guesses').to.be.a('string');
      const e = await thrown(() => loadFileSigner({ certificate: cert, privateKey: key, password: { value: lucky } }, {}));
      expect([e.code, e.message]).to.deep.equal(['KEY_PASSWORD', `could not decrypt ${key}: wrong password?`]);
    });
  });

  describe('keys the service cannot use', () => {
    const cases: [string, () => KeyObject][] = [
      ['ed25519', () => generateKeyPairSync('ed25519').privateKey],
      ['dsa', () => generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 }).privateKey],
      ['rsa-pss', () => generateKeyPairSync('rsa-pss', { modulusLength: 1024 }).privateKey],
      ['EC secp256k1', () => generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey],
    ];
    for (const [name, make] of cases) {
      it(`rejects a key of type ${name} with KEY_INVALID naming the file and the accepted types`, async () => {
        const { cert } = files('ec');
        const key = write(tmp.dir, 'other.pem', make().export({ type: 'pkcs8', format: 'pem' }) as string);
        const e = await thrown(() => loadFileSigner({ certificate: cert, privateKey: key }, {}));
        expect(e.code).to.equal('KEY_INVALID');
        expect(e.message).to.contain(key).and.contain('IAM Roles Anywhere does not accept');
        expect(e.hint).to.contain('RSA').and.contain('P-256');
      });
    }

    it('rejects a traditional DSA PEM block by name', async () => {
      const { cert } = files('ec');
      const dsa = generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 }).privateKey;
      const pkcs8 = write(tmp.dir, 'dsa8.pem', dsa.export({ type: 'pkcs8', format: 'pem' }) as string);
      const key = join(tmp.dir, 'dsa.pem');
      openssl(['pkey', '-in', pkcs8, '-traditional', '-out', key]);
      expect(readFileSync(key, 'utf8')).to.contain('BEGIN DSA PRIVATE KEY');
      const e = await thrown(() => loadFileSigner({ certificate: cert, privateKey: key }, {}));
      expect([e.code, e.message]).to.deep.equal(['KEY_INVALID', `${key} is a DSA key, which IAM Roles Anywhere does not accept`]);
    });
  });

  describe('files that are not a usable key', () => {
    it('says the files look swapped when the key file holds a certificate', async () => {
      const { cert } = files('rsa');
      const e = await thrown(() => loadFileSigner({ certificate: cert, privateKey: cert }, {}));
      expect(e.code).to.equal('KEY_INVALID');
      expect(e.message).to.equal(`private key file ${cert} holds a certificate, not a private key`);
      expect(e.hint).to.equal('did you swap certificate and private_key?');
    });

    it('names an OpenSSH key and how to convert it', async () => {
      const { cert } = files('rsa');
      const key = write(tmp.dir, 'id_ed25519', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n');
      const e = await thrown(() => loadFileSigner({ certificate: cert, privateKey: key }, {}));
      expect([e.code, e.message]).to.deep.equal(['KEY_INVALID', `${key} is an OpenSSH private key, not a PEM key`]);
      expect(e.hint).to.contain('ssh-keygen');
    });

    it('says a public key is not a private key', async () => {
      const { leaf, cert } = files('rsa');
      const key = write(tmp.dir, 'pub.pem', leaf.nodeCert.publicKey.export({ type: 'spki', format: 'pem' }) as string);
      const e = await thrown(() => loadFileSigner({ certificate: cert, privateKey: key }, {}));
      expect([e.code, e.message]).to.deep.equal(['KEY_INVALID', `${key} holds a public key, not a private key`]);
    });

    it('says no PRIVATE KEY block was found in unrelated text', async () => {
      const { cert } = files('rsa');
      const key = write(tmp.dir, 'notes.txt', 'hello\n');
      const e = await thrown(() => loadFileSigner({ certificate: cert, privateKey: key }, {}));
      expect(e.code).to.equal('KEY_INVALID');
      expect(e.message).to.contain(key);
    });

    it('refuses a file with two private keys', async () => {
      const { leaf, cert } = files('ec');
      const key = write(tmp.dir, 'two.pem', leaf.keyPem + pki.rsa!.leaf.keyPem);
      const e = await thrown(() => loadFileSigner({ certificate: cert, privateKey: key }, {}));
      expect([e.code, e.message]).to.deep.equal(['KEY_INVALID', `private key file ${key} holds 2 private keys`]);
    });

    it('reports a damaged key block as KEY_INVALID naming the file', async () => {
      const { leaf, cert } = files('rsa');
      const der = createPrivateKey(leaf.keyPem).export({ type: 'pkcs8', format: 'der' });
      const cut = der.subarray(0, der.length - 40).toString('base64');
      const key = write(tmp.dir, 'cut.pem', `-----BEGIN PRIVATE KEY-----\n${cut}\n-----END PRIVATE KEY-----\n`);
      const e = await thrown(() => loadFileSigner({ certificate: cert, privateKey: key }, {}));
      expect([e.code, e.message]).to.deep.equal(['KEY_INVALID', `${key} does not hold a PKCS#8 private key that can be read`]);
    });

    it('reports an unreadable key file as FILE_UNREADABLE', async () => {
      const { cert } = files('rsa');
      const key = join(tmp.dir, 'missing.pem');
      const e = await thrown(() => loadFileSigner({ certificate: cert, privateKey: key }, {}));
      expect([e.code, e.message]).to.deep.equal(['FILE_UNREADABLE', `cannot read private key file ${key}: no such file`]);
    });
  });
});
