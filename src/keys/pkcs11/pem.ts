/**
 * A small PEM/DER certificate reader for the PKCS#11 signer and `list-certs` (a certificate file
 * beside a key on a token). It splits PEM blocks itself because node:crypto's X509Certificate reads
 * only the first certificate of a bundle. The shared key-file loader may replace it later.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AgentError } from '../../errors.js';

export interface PemBlock {
  label: string;
  der: Buffer;
}

export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ label: m[1]!, der: Buffer.from(m[2]!.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64') });
  }
  return out;
}

export function readFileOrThrow(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
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
  const blocks = pemBlocks(bytes.toString('latin1')).filter((b) => b.label === 'CERTIFICATE');
  const ders = blocks.length ? blocks.map((b) => b.der) : bytes.includes('-----BEGIN') ? [] : [bytes];
  const certs: X509Certificate[] = [];
  for (const [i, der] of ders.entries()) {
    try {
      certs.push(new X509Certificate(der));
    } catch (e) {
      throw new AgentError('CERTIFICATE_INVALID', `${what} ${path}: certificate #${i + 1} cannot be parsed (${(e as Error).message})`, {
        hint: 'give a PEM file with BEGIN CERTIFICATE blocks or a DER certificate',
        cause: e,
      });
    }
  }
  if (!certs.length) {
    throw new AgentError('CERTIFICATE_INVALID', `${what} ${path} holds no certificate`, {
      hint: 'give a PEM file with BEGIN CERTIFICATE blocks or a DER certificate',
    });
  }
  return certs;
}
