/**
 * Reading a certificate file beside a key on a token (the PKCS#11 signer and `list-certs`), on the
 * shared PEM framing and certificate parsing of src/keys.
 */
import type { X509Certificate } from 'node:crypto';
import { AgentError } from '../../errors.js';
import { parseCertificateBundle, parseDerCertificate } from '../certificates.js';
import { readBoundedSync } from '../bounded-read.js';
import { looksLikePem } from '../pem.js';

export { splitPem as pemBlocks } from '../pem.js';

export function readFileOrThrow(path: string, what: string): Buffer {
  try {
    return readBoundedSync(path, what);
  } catch (e) {
    if (e instanceof AgentError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new AgentError('FILE_UNREADABLE', `${what} ${path} cannot be read (${code})`, {
      hint: 'check the path and that the agent user may read it',
      cause: e,
    });
  }
}

/** Every certificate in a PEM bundle (or the one in a DER file), in file order. */
export function readCertificates(path: string, what = 'certificate file'): X509Certificate[] {
  const bytes = readFileOrThrow(path, what);
  const certs = looksLikePem(bytes) ? parseCertificateBundle(bytes.toString('latin1'), `${what} ${path}`) : [parseDerCertificate(bytes, `${what} ${path}`)];
  if (!certs.length) {
    throw new AgentError('CERTIFICATE_INVALID', `${what} ${path} holds no certificate`, {
      hint: 'give a PEM file with BEGIN CERTIFICATE blocks or a DER certificate',
    });
  }
  return certs;
}
