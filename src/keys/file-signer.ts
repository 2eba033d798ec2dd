/**
 * The Signer for keys held in memory (PEM/DER key files and PKCS#12 bundles): the parsed KeyObject is
 * kept for the signer's life, so a signature costs one node:crypto call and no parsing. A rotated file
 * means a new FileSigner from loadSigner, never a re-read here.
 */
import { constants, createPublicKey, sign, type KeyObject, type SignKeyObjectInput, type X509Certificate } from 'node:crypto';
import { AgentError } from '../errors.js';
import { algorithmForKeyType, type Signer, type SigningAlgorithm } from './signer.js';

export class FileSigner implements Signer {
  readonly algorithm: SigningAlgorithm;
  /** Derived from the private key, so the key-match check can compare keys without signing. */
  readonly publicKey: KeyObject;
  readonly chain: readonly X509Certificate[];
  private readonly signOptions: SignKeyObjectInput;

  constructor(
    readonly certificate: X509Certificate,
    chain: readonly X509Certificate[],
    privateKey: KeyObject,
    readonly description: string,
  ) {
    const algorithm = algorithmForKeyType(privateKey.asymmetricKeyType);
    if (!algorithm) {
      throw new AgentError('KEY_INVALID', `${description} is a ${privateKey.asymmetricKeyType ?? 'unknown'} key; only RSA and EC keys can sign`, {
        hint: 'use an RSA key or an EC key on P-256, P-384 or P-521',
      });
    }
    this.algorithm = algorithm;
    this.chain = Object.freeze([...chain]);
    this.publicKey = createPublicKey(privateKey);
    // Padding and encoding are spelled out rather than left to defaults: the service accepts exactly these.
    this.signOptions =
      algorithm === 'AWS4-X509-RSA-SHA256'
        ? { key: privateKey, padding: constants.RSA_PKCS1_PADDING }
        : { key: privateKey, dsaEncoding: 'der' };
  }

  async sign(data: Buffer): Promise<Buffer> {
    return sign('sha256', data, this.signOptions);
  }

  async close(): Promise<void> {}
}
