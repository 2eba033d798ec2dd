/**
 * The entry point for key material: turns KeyMaterialOptions into a checked Signer. File sources are
 * read and parsed here (PEM/DER certificate + key file, a combined PEM, or a PKCS#12 bundle; optional
 * intermediates file); `pkcs11:` URIs go to the PKCS#11 source. Nothing is cached: rotation calls
 * loadSigner (or the function signerLoader returns) again and gets a fresh Signer from the files.
 *
 * Decisions a user can see:
 * - Extra CERTIFICATE blocks after the first in the certificate PEM (a "fullchain.pem") are the
 *   intermediates when no intermediates file is given; with one, the intermediates file wins.
 *   Such implicit chains (and a PKCS#12 bundle's) are put in issuer order and lose self-signed roots;
 *   an explicit intermediates file is sent exactly as written, and checked.
 * - A certificate PEM that also holds the private key works without private_key.
 * - A PKCS#12 bundle is recognised by a .p12/.pfx name or by content; it carries its own key, so a
 *   private_key next to it is an error rather than a guess about which key is meant.
 */
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { AgentError } from '../errors.js';
import { systemClock, type Clock } from '../time/clock.js';
import { checkSigner, MAX_INTERMEDIATES, type CheckSource } from './checks.js';
import { orderChain, parseCertificateBundle, parseDerCertificate } from './certificates.js';
import { FileSigner } from './file-signer.js';
import type { KeyMaterialOptions } from './options.js';
import { readPassword, reason } from './password.js';
import { PRIVATE_KEY_LABELS, looksLikePem, splitPem, type PemBlock } from './pem.js';
import { parsePrivateKeyBlock, parsePrivateKeyFile, type PasswordProvider } from './private-key.js';
import type { Signer } from './signer.js';
import { readBounded } from './bounded-read.js';
import { isTpmHandle, showTpmHandle, TPM_ROUTE_HINT } from './tpm.js';
import type { Pkcs11Registry } from './pkcs11/index.js';
import { classifyKeySource, isPkcs11Uri, keyHolder } from './sources/index.js';

export { isPkcs11Uri };

// Loaded by the key's format: a PEM certificate and key never pay for the PKCS#12 ASN.1 schemas or the
// PKCS#11 source (together ~150 ms of a credential-process call).
const pkcs12 = () => import('./pkcs12.js');

export { readPassword } from './password.js';
export { describeCertificate, parseCertificateBundle, type CertificateDescription } from './certificates.js';
export { checkSigner, listProblems } from './checks.js';

export interface LoadDeps {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** One per agent, so every profile on a token shares one session. */
  pkcs11Registry?: Pkcs11Registry;
  /** Warnings from the PKCS#11 source (e.g. a PIN given inline). */
  logger?: (level: 'warn' | 'info', message: string) => void;
}


/** Reads, parses and checks the key material; throws an AgentError naming the file on any problem. */
export async function loadSigner(options: KeyMaterialOptions, deps: LoadDeps = {}): Promise<Signer> {
  const env = deps.env ?? process.env;
  const clock = deps.clock ?? systemClock;
  for (const [what, value] of [['private key', options.privateKey], ['certificate', options.certificate]] as const) {
    if (isTpmHandle(value)) throw new AgentError('KEY_INVALID', `${what} "${showTpmHandle(value)}" is a TPM key handle, which this agent does not support`, { hint: TPM_ROUTE_HINT });
  }
  const holder = keyHolder(options);
  if (holder.open) {
    // A token or an agent: its own module (and any native binding) loads only here.
    const signer = await holder.open(options, {
      env,
      clock,
      ...(deps.pkcs11Registry ? { pkcs11Registry: deps.pkcs11Registry } : {}),
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
    try {
      await checkSigner(signer, clock.now(), checkSource(options));
    } catch (e) {
      await signer.close().catch(() => {});
      throw e;
    }
    return signer;
  }
  const signer = await loadFileSigner(options, env);
  await checkSigner(signer, clock.now(), checkSource(options));
  return signer;
}

/** The function rotation calls to get a fresh, checked Signer from the same options. */
export function signerLoader(options: KeyMaterialOptions, deps: LoadDeps = {}): () => Promise<Signer> {
  return () => loadSigner(options, deps);
}

export function checkSource(options: KeyMaterialOptions): CheckSource {
  return options.intermediates === undefined
    ? { certificate: options.certificate }
    : { certificate: options.certificate, intermediates: options.intermediates };
}

/** Parses file material into a FileSigner without running the checks (loadSigner runs them). */
export async function loadFileSigner(options: KeyMaterialOptions, env: NodeJS.ProcessEnv = process.env): Promise<FileSigner> {
  const certPath = options.certificate;
  const password = once(() => readPassword(options.password, env));
  const certData = await readSource(certPath, 'certificate file');

  let leaf: X509Certificate;
  let implicitChain: X509Certificate[];
  let key: KeyObject;
  let description: string;

  if (classifyKeySource(certPath).kind === 'pkcs12' || (!looksLikePem(certData) && (await pkcs12()).looksLikePkcs12(certData))) {
    if (options.privateKey !== undefined) {
      throw new AgentError('ARGUMENT_INVALID', `certificate ${certPath} is a PKCS#12 bundle, which carries its own private key, yet private_key is set too`, {
        hint: 'leave private_key (--private-key) out when certificate is a .p12/.pfx bundle',
      });
    }
    const bundle = await (await pkcs12()).parsePkcs12(certData, certPath, password);
    ({ leaf, key } = bundle);
    implicitChain = bundle.chain;
    description = certPath;
  } else {
    const parsed = parseCertificateFile(certData, certPath);
    leaf = parsed.leaf;
    implicitChain = orderChain(leaf, parsed.extras);
    if (options.privateKey !== undefined) {
      const keyData = await readSource(options.privateKey, 'private key file');
      key = await parsePrivateKeyFile(keyData, options.privateKey, password);
      description = options.privateKey;
    } else if (parsed.keyBlock) {
      key = await parsePrivateKeyBlock(parsed.keyBlock, certPath, password);
      description = certPath;
    } else {
      throw new AgentError('ARGUMENT_INVALID', `no private key for certificate ${certPath}`, {
        hint: 'set private_key (--private-key) to the key file, or use a PKCS#12 bundle as certificate',
      });
    }
  }

  let chain = implicitChain;
  if (options.intermediates !== undefined) chain = await readIntermediates(options.intermediates);
  return new FileSigner(leaf, chain, key, description);
}

/** The certificate file and its chain, for a source that holds only the key (an ssh-agent). */
export async function readCertificateAndChain(options: KeyMaterialOptions): Promise<{ leaf: X509Certificate; chain: X509Certificate[] }> {
  const data = await readSource(options.certificate, 'certificate file');
  const parsed = parseCertificateFile(data, options.certificate);
  const chain = options.intermediates !== undefined ? await readIntermediates(options.intermediates) : orderChain(parsed.leaf, parsed.extras);
  return { leaf: parsed.leaf, chain };
}

interface CertificateFile {
  leaf: X509Certificate;
  extras: X509Certificate[];
  /** A private key stored in the same PEM, if any. */
  keyBlock?: PemBlock;
}

function parseCertificateFile(data: Buffer, path: string): CertificateFile {
  if (!looksLikePem(data)) return { leaf: parseDerCertificateFile(data, path), extras: [] };
  const text = data.toString('utf8');
  const blocks = splitPem(text);
  const certs = parseCertificateBundle(text, path);
  const keyBlocks = blocks.filter((b) => PRIVATE_KEY_LABELS.has(b.label));
  if (certs.length === 0) throw noCertificateError(blocks, path);
  const [leaf, ...extras] = certs as [X509Certificate, ...X509Certificate[]];
  const out: CertificateFile = { leaf, extras };
  if (keyBlocks.length === 1) out.keyBlock = keyBlocks[0] as PemBlock;
  return out;
}

function parseDerCertificateFile(data: Buffer, path: string): X509Certificate {
  if (isDerPrivateKey(data)) {
    throw new AgentError('CERTIFICATE_INVALID', `certificate file ${path} holds a private key, not a certificate`, {
      hint: 'did you swap certificate and private_key?',
    });
  }
  try {
    return parseDerCertificate(data, path);
  } catch (e) {
    throw new AgentError('CERTIFICATE_INVALID', `certificate file ${path} is neither PEM (no CERTIFICATE block found) nor a DER certificate or PKCS#12 bundle`, {
      cause: e,
      hint: 'expected PEM with -----BEGIN CERTIFICATE-----, a DER certificate, or a .p12/.pfx bundle',
    });
  }
}

function isDerPrivateKey(data: Buffer): boolean {
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      createPrivateKey({ key: data, format: 'der', type });
      return true;
    } catch {
      // try the next encoding
    }
  }
  return false;
}

function noCertificateError(blocks: PemBlock[], path: string): AgentError {
  if (blocks.some((b) => PRIVATE_KEY_LABELS.has(b.label))) {
    return new AgentError('CERTIFICATE_INVALID', `certificate file ${path} holds a private key, not a certificate`, {
      hint: 'did you swap certificate and private_key?',
    });
  }
  if (blocks.some((b) => b.label === 'PKCS7')) {
    return new AgentError('CERTIFICATE_INVALID', `certificate file ${path} holds a PKCS#7 bundle, not a PEM certificate`, {
      hint: `convert it with openssl pkcs7 -print_certs -in ${path} -out cert.pem and put the leaf first`,
    });
  }
  if (blocks.some((b) => /CERTIFICATE REQUEST/.test(b.label))) {
    return new AgentError('CERTIFICATE_INVALID', `certificate file ${path} holds a certificate signing request, not a certificate`, {
      hint: 'submit the request to your CA and point certificate: at the certificate it returns',
    });
  }
  return new AgentError('CERTIFICATE_INVALID', `certificate file ${path}: no CERTIFICATE block found`, {
    hint: 'expected PEM with -----BEGIN CERTIFICATE-----, a DER certificate, or a .p12/.pfx bundle',
  });
}

async function readIntermediates(path: string): Promise<X509Certificate[]> {
  const data = await readSource(path, 'intermediates file');
  let certs: X509Certificate[];
  if (looksLikePem(data)) {
    const text = data.toString('utf8');
    certs = parseCertificateBundle(text, path);
    if (certs.length === 0) {
      throw new AgentError('CERTIFICATE_INVALID', `intermediates file ${path}: no CERTIFICATE block found`, {
        hint: 'expected a PEM bundle of intermediate CA certificates (-----BEGIN CERTIFICATE-----), issuer of the leaf first',
      });
    }
  } else {
    certs = [parseDerCertificateFile(data, path)];
  }
  if (certs.length > MAX_INTERMEDIATES) {
    throw new AgentError('CHAIN_INVALID', `intermediates file ${path} holds ${certs.length} certificates; IAM Roles Anywhere accepts at most ${MAX_INTERMEDIATES}`, {
      hint: 'leave out the root and anything above the trust anchor',
    });
  }
  return certs;
}

async function readSource(path: string, role: string): Promise<Buffer> {
  try {
    return await readBounded(path, role);
  } catch (e) {
    if (e instanceof AgentError) throw e;
    throw new AgentError('FILE_UNREADABLE', `cannot read ${role} ${path}: ${reason(e)}`, {
      cause: e,
      hint: "check the path and that the agent's user may read it",
    });
  }
}

function once(f: () => Promise<string | undefined>): PasswordProvider {
  let p: Promise<string | undefined> | undefined;
  return () => (p ??= f());
}
