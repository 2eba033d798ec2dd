/**
 * A throwaway TLS identity for the emulator's HTTPS listener: a CA made at start and a server
 * certificate it signs for 127.0.0.1, ::1 and localhost (plus the bound host, if different).
 * Clients trust `caPem` (the agent's --ca-bundle), exactly as they would a private CA in front of a
 * proxy; nothing is written to disk unless the CLI is asked to. EC P-256 keeps start-up fast.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { isIP } from 'node:net';
import { webcrypto } from 'node:crypto';
import { systemClock, type Clock } from '../time/clock.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface TlsIdentity {
  caPem: string;
  certPem: string;
  keyPem: string;
}

const ALG: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function serial(): string {
  return '01' + Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString('hex');
}

/**
 * Makes the CA and the server certificate. The validity window is read from the real clock on
 * purpose: TLS clients check it against the system time, not the emulator's injected Clock.
 */
export async function generateTlsIdentity(extraHost?: string, clock: Clock = systemClock): Promise<TlsIdentity> {
  const now = clock.now();
  const notBefore = new Date(now - 24 * 3600 * 1000);
  const notAfter = new Date(now + 30 * 24 * 3600 * 1000);
  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=rolesanywhere-agent emulator CA',
    notBefore,
    notAfter,
    signingAlgorithm: SIGN,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const names: x509.JsonGeneralNames = [
    { type: 'ip', value: '127.0.0.1' },
    { type: 'ip', value: '::1' },
    { type: 'dns', value: 'localhost' },
  ];
  if (extraHost && !['127.0.0.1', '::1', 'localhost'].includes(extraHost)) {
    names.push({ type: isIP(extraHost) ? 'ip' : 'dns', value: extraHost });
  }
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=localhost',
    issuer: ca.subject,
    notBefore,
    notAfter,
    signingAlgorithm: SIGN,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  return {
    caPem: ca.toString('pem') + '\n',
    certPem: cert.toString('pem') + '\n',
    keyPem: toPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'),
  };
}
