/**
 * A throwaway TLS identity for the emulator's HTTPS listener: a CA made at start and a server
 * certificate it signs for 127.0.0.1, ::1 and localhost (plus the bound host, if different).
 * Clients trust `caPem` (the agent's --ca-bundle), exactly as they would a private CA in front of a
 * proxy; nothing is written to disk unless the CLI is asked to. EC P-256 keeps start-up fast.
 */
import { isIP } from 'node:net';
import { issue } from '../pki/issue.js';
import { systemClock, type Clock } from '../time/clock.js';

export interface TlsIdentity {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/**
 * Makes the CA and the server certificate. The validity window is read from the real clock on
 * purpose: TLS clients check it against the system time, not the emulator's injected Clock.
 */
export async function generateTlsIdentity(extraHost?: string, clock: Clock = systemClock): Promise<TlsIdentity> {
  const now = clock.now();
  const notBefore = new Date(now - 24 * 3600 * 1000);
  const notAfter = new Date(now + 30 * 24 * 3600 * 1000);
  const ca = await issue({ name: 'rolesanywhere-agent emulator CA', kind: 'ec', ca: true, notBefore, notAfter });
  const dnsNames = ['localhost'];
  const ipAddresses = ['127.0.0.1', '::1'];
  if (extraHost && !['127.0.0.1', '::1', 'localhost'].includes(extraHost)) {
    (isIP(extraHost) ? ipAddresses : dnsNames).push(extraHost);
  }
  const server = await issue({ name: 'localhost', kind: 'ec', issuer: ca, notBefore, notAfter, dnsNames, ipAddresses, serverAuth: true });
  return { caPem: ca.certPem, certPem: server.certPem, keyPem: server.keyPem };
}
