/**
 * RFC 7512 `pkcs11:` URIs: parsing into the attributes this agent uses to pick a token and an object,
 * formatting them back (for `list-certs`, so a user can paste what it prints), matching a token
 * against a URI, and `redact()` for every message that shows a URI (it drops `pin-value`). Pure.
 *
 * Unknown standard attributes are refused (a typo such as `lable=` would otherwise widen the match
 * to every object); vendor attributes (`x-…`) are accepted and ignored, as the RFC asks.
 */
import { AgentError } from '../../errors.js';
import { table } from '../../lookup.js';

export type Pkcs11ObjectType = 'public' | 'private' | 'cert' | 'secret-key' | 'data';

export interface Pkcs11Uri {
  // path attributes: which token
  token?: string;
  manufacturer?: string;
  serial?: string;
  model?: string;
  slotId?: bigint;
  slotDescription?: string;
  slotManufacturer?: string;
  libraryManufacturer?: string;
  libraryDescription?: string;
  libraryVersion?: string;
  // path attributes: which object
  object?: string;
  id?: Buffer;
  type?: Pkcs11ObjectType;
  // query attributes
  pinSource?: string;
  pinValue?: string;
  moduleName?: string;
  modulePath?: string;
}

type StringKey = Exclude<keyof Pkcs11Uri, 'slotId' | 'id' | 'type'>;

const PATH_STRINGS = table<StringKey>({
  token: 'token',
  manufacturer: 'manufacturer',
  serial: 'serial',
  model: 'model',
  object: 'object',
  'slot-description': 'slotDescription',
  'slot-manufacturer': 'slotManufacturer',
  'library-manufacturer': 'libraryManufacturer',
  'library-description': 'libraryDescription',
  'library-version': 'libraryVersion',
});
const PATH_OTHER = ['id', 'type', 'slot-id'];
const QUERY_STRINGS = table<StringKey>({
  'pin-source': 'pinSource',
  'pin-value': 'pinValue',
  'module-name': 'moduleName',
  'module-path': 'modulePath',
});
const TYPES: readonly Pkcs11ObjectType[] = ['public', 'private', 'cert', 'secret-key', 'data'];

export function isPkcs11Uri(text: string | undefined): text is string {
  return typeof text === 'string' && /^pkcs11:/i.test(text.trim());
}

/**
 * The URI safe for messages and logs; works on malformed text too. The query keeps only the
 * attributes known to carry no secret (pin-source, module-name, module-path): a `pin-value`, or a
 * PIN typed into the query without its name, is dropped. A `pin-value` in the path is masked.
 */
export function redact(uri: string): string {
  const q = uri.indexOf('?');
  const path = (q < 0 ? uri : uri.slice(0, q)).replace(/(^|;|:)pin-value=[^;]*/gi, '$1pin-value=***');
  if (q < 0) return path;
  const kept = uri
    .slice(q + 1)
    .split('&')
    .filter((part) => /^(pin-source|module-name|module-path)=/.test(part));
  return kept.length ? `${path}?${kept.join('&')}` : path;
}

function invalid(uri: string, problem: string): AgentError {
  return new AgentError('CONFIG_INVALID', `invalid pkcs11: URI ${redact(uri)}: ${problem}`, {
    hint: 'write it as in RFC 7512, e.g. pkcs11:token=my-token;object=my-key;type=private?pin-source=file:/etc/pki/pin — `rolesanywhere-agent list-certs` prints the URIs on a token',
  });
}

/** Percent-decodes to bytes; other characters stand for their UTF-8 bytes. */
function decodeBytes(uri: string, name: string, value: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < value.length; ) {
    const ch = value[i]!;
    if (ch === '%') {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
        // The value may be a PIN: name the attribute, never quote it.
        const near = name === 'pin-value' ? '' : ` near "${value.slice(i, i + 3)}"`;
        throw invalid(uri, `attribute ${name} has a bad percent-escape${near}`);
      }
      out.push(parseInt(hex, 16));
      i += 3;
    } else {
      const cp = value.codePointAt(i)!;
      const s = String.fromCodePoint(cp);
      out.push(...Buffer.from(s, 'utf8'));
      i += s.length;
    }
  }
  return Buffer.from(out);
}

function decodeText(uri: string, name: string, value: string): string {
  const bytes = decodeBytes(uri, name, value);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw invalid(uri, `attribute ${name} is not valid UTF-8 once decoded`);
  return text;
}

function splitAttribute(uri: string, part: string, where: 'path' | 'query'): [string, string] {
  const eq = part.indexOf('=');
  // A stray query part may be a PIN typed without its name: quote only path parts.
  if (eq <= 0) throw invalid(uri, where === 'path' ? `"${part}" is not name=value` : 'a query part is not name=value');
  return [part.slice(0, eq), part.slice(eq + 1)];
}

export function parsePkcs11Uri(text: string): Pkcs11Uri {
  const uri = text.trim();
  if (!isPkcs11Uri(uri)) throw invalid(uri, 'it does not start with pkcs11:');
  const body = uri.slice('pkcs11:'.length);
  const q = body.indexOf('?');
  const pathPart = q < 0 ? body : body.slice(0, q);
  const queryPart = q < 0 ? '' : body.slice(q + 1);
  const out: Pkcs11Uri = {};
  const seen = new Set<string>();
  const once = (name: string): void => {
    if (seen.has(name)) throw invalid(uri, `attribute ${name} appears twice`);
    seen.add(name);
  };

  for (const part of pathPart.split(';')) {
    if (part === '') continue;
    const [name, raw] = splitAttribute(uri, part, 'path');
    if (name.startsWith('x-')) continue;
    const key = PATH_STRINGS[name];
    if (key) {
      once(name);
      out[key] = decodeText(uri, name, raw);
    } else if (name === 'id') {
      once(name);
      out.id = decodeBytes(uri, name, raw);
    } else if (name === 'type') {
      once(name);
      const t = decodeText(uri, name, raw);
      if (!(TYPES as readonly string[]).includes(t)) throw invalid(uri, `type=${t} is not one of ${TYPES.join(', ')}`);
      out.type = t as Pkcs11ObjectType;
    } else if (name === 'slot-id') {
      once(name);
      const v = decodeText(uri, name, raw);
      if (!/^\d+$/.test(v)) throw invalid(uri, `slot-id=${v} is not a decimal number`);
      out.slotId = BigInt(v);
    } else if (QUERY_STRINGS[name]) {
      throw invalid(uri, `${name} belongs in the query, after "?"`);
    } else {
      throw invalid(uri, `unknown attribute "${name}" (known: ${[...Object.keys(PATH_STRINGS), ...PATH_OTHER].sort().join(', ')})`);
    }
  }

  for (const part of queryPart.split('&')) {
    if (part === '') continue;
    const [name, raw] = splitAttribute(uri, part, 'query');
    if (name.startsWith('x-')) continue;
    const key = QUERY_STRINGS[name];
    if (!key) {
      if (PATH_STRINGS[name] || PATH_OTHER.includes(name)) throw invalid(uri, `${name} belongs in the path, before "?"`);
      throw invalid(uri, `unknown query attribute "${name}" (known: ${Object.keys(QUERY_STRINGS).sort().join(', ')})`);
    }
    once(name);
    out[key] = decodeText(uri, name, raw);
  }
  return out;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

function encodeText(value: string): string {
  let out = '';
  for (const ch of value) {
    if (UNRESERVED.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).padStart(2, '0');
  }
  return out;
}

function encodeBytes(value: Buffer): string {
  return [...value].map((b) => '%' + b.toString(16).padStart(2, '0')).join('');
}

/** Builds a URI (path attributes in RFC order, then query); never writes a pin-value. */
export function formatPkcs11Uri(u: Pkcs11Uri): string {
  const path: string[] = [];
  const text = (name: string, v: string | undefined): void => {
    if (v !== undefined) path.push(`${name}=${encodeText(v)}`);
  };
  text('library-manufacturer', u.libraryManufacturer);
  text('library-description', u.libraryDescription);
  text('library-version', u.libraryVersion);
  text('slot-manufacturer', u.slotManufacturer);
  text('slot-description', u.slotDescription);
  if (u.slotId !== undefined) path.push(`slot-id=${u.slotId}`);
  text('manufacturer', u.manufacturer);
  text('model', u.model);
  text('serial', u.serial);
  text('token', u.token);
  text('object', u.object);
  if (u.id !== undefined) path.push(`id=${encodeBytes(u.id)}`);
  if (u.type !== undefined) path.push(`type=${u.type}`);
  const query: string[] = [];
  if (u.pinSource !== undefined) query.push(`pin-source=${encodeText(u.pinSource).replace(/%3a/gi, ':').replace(/%2f/gi, '/')}`);
  if (u.moduleName !== undefined) query.push(`module-name=${encodeText(u.moduleName)}`);
  if (u.modulePath !== undefined) query.push(`module-path=${encodeText(u.modulePath).replace(/%2f/gi, '/')}`);
  return `pkcs11:${path.join(';')}${query.length ? '?' + query.join('&') : ''}`;
}

/** What a token offers to be matched against: trimmed CK_TOKEN_INFO / CK_SLOT_INFO / CK_INFO fields. */
export interface TokenFacts {
  label: string;
  manufacturer: string;
  serial: string;
  model: string;
  slotId: bigint;
  slotDescription: string;
  slotManufacturer: string;
  libraryManufacturer: string;
  libraryDescription: string;
  libraryVersion: { major: number; minor: number };
}

function versionMatches(wanted: string, v: { major: number; minor: number }): boolean {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(wanted);
  if (!m) return false;
  return Number(m[1]) === v.major && Number(m[2] ?? '0') === v.minor;
}

/** True when every token/slot/library attribute the URI names equals the token's. */
export function tokenMatches(u: Pkcs11Uri, t: TokenFacts): boolean {
  if (u.token !== undefined && u.token !== t.label) return false;
  if (u.manufacturer !== undefined && u.manufacturer !== t.manufacturer) return false;
  if (u.serial !== undefined && u.serial !== t.serial) return false;
  if (u.model !== undefined && u.model !== t.model) return false;
  if (u.slotId !== undefined && u.slotId !== t.slotId) return false;
  if (u.slotDescription !== undefined && u.slotDescription !== t.slotDescription) return false;
  if (u.slotManufacturer !== undefined && u.slotManufacturer !== t.slotManufacturer) return false;
  if (u.libraryManufacturer !== undefined && u.libraryManufacturer !== t.libraryManufacturer) return false;
  if (u.libraryDescription !== undefined && u.libraryDescription !== t.libraryDescription) return false;
  if (u.libraryVersion !== undefined && !versionMatches(u.libraryVersion, t.libraryVersion)) return false;
  return true;
}
