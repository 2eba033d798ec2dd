/**
 * The TLS trust of the transport: one secure context for every connection (direct, tunnelled and
 * to an https:// proxy), node's roots plus an optional CA bundle added to them, never replacing them.
 * A bundle that cannot be read or holds no certificate is refused when the transport is built.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { AgentError } from '../errors.js';

export function readCaBundle(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String(code ?? e);
    throw new AgentError('FILE_UNREADABLE', `cannot read CA bundle ${path}: ${why}`, {
      cause: e,
      hint: 'point --ca-bundle / ca_bundle: / AWS_CA_BUNDLE at a readable PEM file',
    });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new AgentError('CERTIFICATE_INVALID', `CA bundle ${path} holds no PEM certificate`, {
      hint: 'the CA bundle must be PEM (-----BEGIN CERTIFICATE-----)',
    });
  }
  return pem;
}

/**
 * One secure context for every connection: building it parses the whole CA store, which cost ~30 ms
 * of CPU per new connection when left to tls.connect (measured in the benchmarks).
 */
export function secureContextFor(caBundle: string | undefined): SecureContext {
  if (!caBundle) return createSecureContext({});
  const bundle = readCaBundle(caBundle);
  const context = createSecureContext({});
  // Added to node's own root store (copied natively, the roots parsed once), not rebuilt from
  // rootCertificates in JavaScript: that took ~65 ms, a fifth of a credential-process call. The
  // native handle is not public API, so a Node without it gets the documented (slower) way.
  const native = (context as SecureContext & { context?: { addCACert?: (pem: string) => void } }).context;
  if (typeof native?.addCACert === 'function') {
    native.addCACert(bundle);
    return context;
  }
  return createSecureContext({ ca: [...rootCertificates, bundle] });
}
