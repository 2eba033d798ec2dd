/** A minimal in-memory Signer for tests of the signing and client layers. */
import { createPrivateKey, sign as cryptoSign, X509Certificate, type KeyObject } from 'node:crypto';
import { algorithmForKeyType, type Signer } from '../../src/keys/signer.js';

export function memorySigner(certPem: string, key: string | KeyObject, chainPems: string[] = []): Signer {
  const keyObject = typeof key === 'string' ? createPrivateKey(key) : key;
  const algorithm = algorithmForKeyType(keyObject.asymmetricKeyType);
  if (!algorithm) throw new Error(`unsupported key type ${keyObject.asymmetricKeyType}`);
  return {
    certificate: new X509Certificate(certPem),
    chain: chainPems.map((p) => new X509Certificate(p)),
    algorithm,
    description: 'memory',
    sign: async (data: Buffer) => cryptoSign('sha256', data, { key: keyObject, dsaEncoding: 'der' }),
    close: async () => {},
  };
}
