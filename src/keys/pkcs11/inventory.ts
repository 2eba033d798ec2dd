/**
 * What a token (or a PEM file) holds, as data for `list-certs`: each certificate and key with the
 * pkcs11: URI that names it, and for certificates the serial (hex and decimal), subject, issuer and
 * validity. A PIN is sent only when the URI selects exactly one token; otherwise only public objects
 * are listed, so a PIN never reaches a token the user did not single out.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { AgentError } from '../../errors.js';
import type { PasswordSource } from '../options.js';
import { oneLineName } from '../certificates.js';
import { serialDecimal } from '../signer.js';
import { resolveModulePath } from './library.js';
import { tokenName } from './module.js';
import { inventory, keyText, objectUri, type ObjectClass, type ObjectSummary } from './objects.js';
import { pemBlocks, readFileOrThrow } from './pem.js';
import { choosePinSource, type PinLogger } from './pin.js';
import { Pkcs11Registry } from './registry.js';
import { formatPkcs11Uri, parsePkcs11Uri, redact, tokenMatches } from './uri.js';

export interface CertificateFacts {
  subject: string;
  issuer: string;
  serialHex: string;
  serialDecimal: string;
  notBefore: string;
  notAfter: string;
}

export interface ListedObject {
  class: ObjectClass;
  label: string;
  /** CKA_ID as lower-case hex. */
  id: string;
  uri: string;
  /** "RSA 2048", "EC P-256" for keys. */
  key?: string;
  certificate?: CertificateFacts;
}

export interface ListedToken {
  label: string;
  serial: string;
  manufacturer: string;
  model: string;
  slotId: string;
  uri: string;
  loggedIn: boolean;
  objects: ListedObject[];
}

export interface TokenListing {
  module: string;
  tokens: ListedToken[];
  /** Why private objects are missing, when they are. */
  note?: string;
}

export function certificateFacts(c: X509Certificate): CertificateFacts {
  return {
    subject: oneLineName(c.subject),
    issuer: oneLineName(c.issuer),
    serialHex: c.serialNumber.toLowerCase(),
    serialDecimal: serialDecimal(c),
    notBefore: new Date(c.validFrom).toISOString(),
    notAfter: new Date(c.validTo).toISOString(),
  };
}

export interface ListOptions {
  pkcs11Lib?: string | undefined;
  pin?: PasswordSource | undefined;
  env: NodeJS.ProcessEnv;
  logger?: PinLogger;
  registry?: Pkcs11Registry;
  exists?: (path: string) => boolean;
}

function listed(token: Parameters<typeof objectUri>[0], o: ObjectSummary): ListedObject {
  const out: ListedObject = { class: o.class, label: o.label, id: o.id.toString('hex'), uri: objectUri(token, o) };
  if (o.keyType) out.key = keyText(o);
  if (o.certificate) out.certificate = certificateFacts(o.certificate);
  return out;
}

export async function listPkcs11(uriText: string, o: ListOptions): Promise<TokenListing> {
  const uri = parsePkcs11Uri(uriText);
  const modulePath = resolveModulePath({ uriModulePath: uri.modulePath, configured: o.pkcs11Lib, exists: o.exists });
  const pin = choosePinSource({ pin: o.pin, uri, env: o.env, logger: o.logger });
  const registry = o.registry ?? new Pkcs11Registry();
  const module = await registry.acquireModule(modulePath);
  try {
    let present;
    try {
      present = module.tokens();
    } catch (e) {
      throw module.failure('C_GetSlotList', e);
    }
    const matches = present.filter((t) => tokenMatches(uri, t));
    if (!matches.length) {
      const list = present.length ? present.map((t) => tokenName(t)).join(', ') : 'none';
      throw new AgentError('PKCS11', `no token matches ${redact(uriText)} in ${modulePath}; tokens present: ${list}`, {
        hint: 'run list-certs with a bare pkcs11: to see every token of the module',
      });
    }
    const login = matches.length === 1 && !pin.none;
    const listing: TokenListing = { module: modulePath, tokens: [] };
    if (!pin.none && !login) listing.note = `${matches.length} tokens match, so no PIN was sent; name one token (token=…) to list its private keys`;
    else if (pin.none) listing.note = 'no PIN given, so private objects are hidden; add --pin-file or --pin-env to list private keys';
    for (const slot of matches) {
      const token = registry.acquireToken(module, slot);
      try {
        const objects = await token.run((s) => inventory({ api: module.api, lib: module.lib }, s), login ? { pin, ...(o.logger ? { logger: o.logger } : {}) } : null);
        const wanted = objects.filter(
          (x) =>
            (x.class === 'cert' || x.class === 'private' || x.class === 'public') &&
            (uri.type === undefined || x.class === uri.type) &&
            (uri.object === undefined || x.label === uri.object) &&
            (uri.id === undefined || x.id.equals(uri.id)),
        );
        listing.tokens.push({
          label: slot.label,
          serial: slot.serial,
          manufacturer: slot.manufacturer,
          model: slot.model,
          slotId: slot.slotId.toString(),
          uri: formatPkcs11Uri({ token: slot.label, serial: slot.serial }),
          loggedIn: login,
          objects: wanted.map((x) => listed(slot, x)),
        });
      } finally {
        await registry.releaseToken(token);
      }
    }
    return listing;
  } finally {
    registry.releaseModule(module);
  }
}

export interface FileListing {
  file: string;
  certificates: (CertificateFacts & { index: number })[];
  keys: { index: number; key: string; encrypted: boolean }[];
}

/** Certificates and private keys in a PEM file (or one DER certificate). */
export function listPemFile(path: string): FileListing {
  const bytes = readFileOrThrow(path, 'file');
  const blocks = pemBlocks(bytes.toString('latin1'));
  const out: FileListing = { file: path, certificates: [], keys: [] };
  const ders = blocks.length ? blocks : [{ label: 'CERTIFICATE', der: bytes }];
  for (const [i, b] of ders.entries()) {
    const index = i + 1;
    if (b.label === 'CERTIFICATE') {
      try {
        out.certificates.push({ index, ...certificateFacts(new X509Certificate(b.der)) });
      } catch (e) {
        throw new AgentError('CERTIFICATE_INVALID', `${path}: block #${index} is not a readable certificate (${(e as Error).message})`, { cause: e });
      }
    } else if (b.label === 'ENCRYPTED PRIVATE KEY') {
      out.keys.push({ index, key: 'encrypted PKCS#8', encrypted: true });
    } else if (/PRIVATE KEY$/.test(b.label)) {
      const type = b.label === 'RSA PRIVATE KEY' ? 'pkcs1' : b.label === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs8';
      try {
        const k = createPrivateKey({ key: b.der, format: 'der', type });
        const d = k.asymmetricKeyDetails;
        const text = k.asymmetricKeyType === 'rsa' ? `RSA ${d?.modulusLength ?? ''}`.trim() : k.asymmetricKeyType === 'ec' ? `EC ${d?.namedCurve === 'prime256v1' ? 'P-256' : d?.namedCurve ?? ''}`.trim() : String(k.asymmetricKeyType);
        out.keys.push({ index, key: text, encrypted: false });
      } catch {
        out.keys.push({ index, key: `unreadable ${b.label}`, encrypted: false });
      }
    }
  }
  if (!out.certificates.length && !out.keys.length) {
    throw new AgentError('CERTIFICATE_INVALID', `${path} holds no certificate or private key`, { hint: 'give a PEM file or a pkcs11: URI' });
  }
  return out;
}

