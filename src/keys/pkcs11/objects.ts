/**
 * Objects on a token: finding them by a URI's attributes, reading their attributes tolerantly (a
 * sensitive or absent attribute is "unknown", not an error), summarising them for messages and for
 * `list-certs`, and finding the intermediates of a certificate among the token's certificates.
 * Every function here runs inside a token's queue on an open session.
 */
import { X509Certificate } from 'node:crypto';
import type { Attribute, Handle, PKCS11 } from 'pkcs11js';
import { curveOfEcParams } from './der.js';
import type { Pkcs11Js } from './library.js';
import { formatPkcs11Uri, type Pkcs11ObjectType, type Pkcs11Uri, type TokenFacts } from './uri.js';

export interface Ctx {
  api: Pkcs11Js;
  lib: PKCS11;
}

export function findObjects({ lib }: Ctx, session: Handle, template: Attribute[]): Handle[] {
  lib.C_FindObjectsInit(session, template);
  try {
    const out: Handle[] = [];
    for (;;) {
      const batch = lib.C_FindObjects(session, 64);
      if (!batch.length) return out;
      out.push(...batch);
    }
  } finally {
    lib.C_FindObjectsFinal(session);
  }
}

/** One attribute, or undefined when the token will not give it (sensitive, absent, invalid). */
export function readAttribute({ lib }: Ctx, session: Handle, object: Handle, type: number): Buffer | undefined {
  try {
    return lib.C_GetAttributeValue(session, object, [{ type }])[0]?.value;
  } catch {
    return undefined;
  }
}

/** A CK_ULONG as the module's platform writes it (8 bytes on LP64, 4 on Windows). */
export function ulong(buf: Buffer | undefined): number | undefined {
  if (!buf) return undefined;
  if (buf.length === 8) return Number(buf.readBigUInt64LE());
  if (buf.length === 4) return buf.readUInt32LE();
  return undefined;
}

export type ObjectClass = Pkcs11ObjectType | 'other';
export type KeyType = 'rsa' | 'ec' | 'other';

export interface ObjectSummary {
  handle: Handle;
  class: ObjectClass;
  label: string;
  id: Buffer;
  keyType?: KeyType;
  /** RSA modulus size. */
  bits?: number;
  /** EC curve, when named. */
  curve?: string;
  alwaysAuthenticate?: boolean;
  certificate?: X509Certificate;
}

export function classOf(api: Pkcs11Js, value: number | undefined): ObjectClass {
  switch (value) {
    case api.CKO_PRIVATE_KEY:
      return 'private';
    case api.CKO_PUBLIC_KEY:
      return 'public';
    case api.CKO_CERTIFICATE:
      return 'cert';
    case api.CKO_SECRET_KEY:
      return 'secret-key';
    case api.CKO_DATA:
      return 'data';
    default:
      return 'other';
  }
}

export function classValue(api: Pkcs11Js, type: Pkcs11ObjectType): number {
  return { private: api.CKO_PRIVATE_KEY, public: api.CKO_PUBLIC_KEY, cert: api.CKO_CERTIFICATE, 'secret-key': api.CKO_SECRET_KEY, data: api.CKO_DATA }[type];
}

export function summarize(ctx: Ctx, session: Handle, handle: Handle): ObjectSummary {
  const { api } = ctx;
  const cls = classOf(api, ulong(readAttribute(ctx, session, handle, api.CKA_CLASS)));
  const out: ObjectSummary = {
    handle,
    class: cls,
    label: readAttribute(ctx, session, handle, api.CKA_LABEL)?.toString('utf8') ?? '',
    id: readAttribute(ctx, session, handle, api.CKA_ID) ?? Buffer.alloc(0),
  };
  if (cls === 'private' || cls === 'public') {
    const kt = ulong(readAttribute(ctx, session, handle, api.CKA_KEY_TYPE));
    out.keyType = kt === api.CKK_RSA ? 'rsa' : kt === api.CKK_EC ? 'ec' : 'other';
    if (out.keyType === 'rsa') {
      const modulus = readAttribute(ctx, session, handle, api.CKA_MODULUS);
      if (modulus?.length) out.bits = modulus.length * 8;
    } else if (out.keyType === 'ec') {
      const curve = curveOfEcParams(readAttribute(ctx, session, handle, api.CKA_EC_PARAMS));
      if (curve) out.curve = curve;
    }
    if (cls === 'private') {
      const aa = readAttribute(ctx, session, handle, api.CKA_ALWAYS_AUTHENTICATE);
      out.alwaysAuthenticate = !!aa && aa.length > 0 && aa[0] !== 0;
    }
  } else if (cls === 'cert') {
    const der = readAttribute(ctx, session, handle, api.CKA_VALUE);
    if (der) {
      try {
        out.certificate = new X509Certificate(der);
      } catch {
        // Not an X.509 certificate this agent can read; listed without details.
      }
    }
  }
  return out;
}

export function inventory(ctx: Ctx, session: Handle): ObjectSummary[] {
  return findObjects(ctx, session, []).map((h) => summarize(ctx, session, h));
}

/** The template a URI's object attributes select, for one object class. */
export function objectTemplate(api: Pkcs11Js, uri: Pick<Pkcs11Uri, 'id' | 'object'>, type: Pkcs11ObjectType): Attribute[] {
  const t: Attribute[] = [{ type: api.CKA_CLASS, value: classValue(api, type) }];
  if (uri.id !== undefined) t.push({ type: api.CKA_ID, value: uri.id });
  if (uri.object !== undefined) t.push({ type: api.CKA_LABEL, value: uri.object });
  return t;
}

const CLASS_WORDS: Record<ObjectClass, string> = {
  private: 'private key',
  public: 'public key',
  cert: 'certificate',
  'secret-key': 'secret key',
  data: 'data object',
  other: 'object',
};

export function idText(id: Buffer): string {
  return [...id].map((b) => '%' + b.toString(16).padStart(2, '0')).join('');
}

export function keyText(o: ObjectSummary): string {
  if (o.keyType === 'rsa') return o.bits ? `RSA ${o.bits}` : 'RSA';
  if (o.keyType === 'ec') return o.curve ? `EC ${o.curve}` : 'EC';
  return 'unsupported key type';
}

/** `private key "leaf" id=%01 (RSA 2048)` — for messages that list what a token holds. */
export function describeObject(o: ObjectSummary): string {
  let s = `${CLASS_WORDS[o.class]} "${o.label}" id=${idText(o.id) || '(none)'}`;
  if (o.keyType) s += ` (${keyText(o)})`;
  if (o.certificate) s += ` (${o.certificate.subject.replace(/\n/g, ', ')})`;
  return s;
}

export function describeInventory(objects: ObjectSummary[], loggedIn: boolean): string {
  const shown = objects.filter((o) => o.class !== 'other');
  const list = shown.length ? shown.map(describeObject).join('; ') : 'no objects';
  return loggedIn ? list : `${list} (private objects are hidden until login)`;
}

/** A URI that names exactly this object on this token, for `list-certs` and messages. */
export function objectUri(token: Pick<TokenFacts, 'label' | 'serial' | 'manufacturer' | 'model'>, o: Pick<ObjectSummary, 'class' | 'label' | 'id'>): string {
  return formatPkcs11Uri({
    token: token.label,
    serial: token.serial,
    ...(o.label !== '' ? { object: o.label } : {}),
    ...(o.id.length ? { id: o.id } : {}),
    ...(o.class !== 'other' ? { type: o.class } : {}),
  });
}

function selfSigned(c: X509Certificate): boolean {
  return c.checkIssued(c) && c.verify(c.publicKey);
}

/**
 * The intermediates of `leaf` among `pool`, issuer first: each next certificate is the one whose
 * subject is the current one's issuer and whose key verifies its signature. Self-signed roots stop
 * the walk (the trust anchor holds them); at most `max` are returned.
 */
export function chainFrom(leaf: X509Certificate, pool: readonly X509Certificate[], max = 5): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let current = leaf;
  while (chain.length < max) {
    const next = pool.find(
      (c) => !c.raw.equals(current.raw) && !c.raw.equals(leaf.raw) && !chain.some((x) => x.raw.equals(c.raw)) && current.checkIssued(c) && current.verify(c.publicKey),
    );
    if (!next || selfSigned(next)) break;
    chain.push(next);
    current = next;
  }
  return chain;
}
