/**
 * Keeps secrets out of every log line: values the agent has seen (issued secret keys, session
 * tokens, key passwords, PINs) are registered and masked wherever they appear, and anything shaped
 * like a credential assignment, a PEM private key or a URL's password (a proxy's) is masked even if
 * it was never registered.
 *
 * Issued credentials are held per owner (a profile) for two generations, the current one and the
 * one it replaced, so the set stays the size of the schedule however long the agent runs. A profile
 * removed from the schedule keeps its last ones: they stay valid in the file until they expire. Looking
 * them up goes through an index of their first characters, so a log line costs one pass over its
 * text rather than one search per secret. Nothing is keyed by a secret itself: a session token is a
 * few KiB, and a Map or Set keyed by it hashes and compares the whole token.
 */
import { mask } from '../credentials.js';

const ASSIGNMENT =
  /((?:aws_secret_access_key|aws_session_token|aws_security_token|secretaccesskey|sessiontoken|secret_access_key|session_token|password|passphrase|pin|pin-value)["']?\s*[:=]\s*["']?)([^\s"',;}]{4,})/gi;
const PEM_KEY = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g;
/** scheme://user:password@ (a proxy URL): the password, up to the @. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@]*@/gi;
/** Shorter values are not registered (too many false hits); also the length of the index key. */
const MIN_SECRET = 6;
/** Generations of an owner's secrets that stay masked: the current one and the one before it. */
const GENERATIONS = 2;

/** One registration: the secrets an owner held at once (or, for `add`, the permanent ones). */
interface Generation {
  readonly secrets: string[];
}

export class Redactor {
  /**
   * First MIN_SECRET characters → the generations holding a secret that starts with them (a
   * generation is an object: adding and removing it hashes no secret). Every session token of a
   * service starts alike (STS tokens with "IQoJb3JpZ2lu"), so one entry holds a generation per
   * profile; keyed by the tokens themselves, this bookkeeping was ~30 µs of each refresh's CPU
   * in a 1000-profile burst.
   */
  private readonly index = new Map<string, Set<Generation>>();
  /** The values given to `add`, for the life of the agent. */
  private readonly permanent: Generation = { secrets: [] };
  private readonly owners = new Map<string, Generation[]>();
  /** Length → how many registered secrets (counted per generation) have it; and the shortest, or Infinity. */
  private readonly lengths = new Map<number, number>();
  private shortest = Infinity;

  /** Registers a value that must never be printed, for the life of the agent (key passwords, PINs). */
  add(secret: string | undefined): void {
    if (!secret || secret.length < MIN_SECRET || this.permanent.secrets.includes(secret)) return;
    this.permanent.secrets.push(secret);
    this.retain(this.permanent, secret);
  }

  /**
   * Registers the secrets an owner holds now (a profile's issued credentials). The owner's previous
   * generation stays masked as well; older ones are forgotten.
   */
  hold(owner: string, secrets: ReadonlyArray<string | undefined>): void {
    const generation: Generation = { secrets: secrets.filter((s): s is string => !!s && s.length >= MIN_SECRET) };
    let generations = this.owners.get(owner);
    if (!generations) this.owners.set(owner, (generations = []));
    generations.push(generation);
    for (const s of generation.secrets) this.retain(generation, s);
    while (generations.length > GENERATIONS) {
      const old = generations.shift()!;
      for (const s of old.secrets) this.release(old, s);
    }
  }

  /** Distinct secrets registered now. */
  get size(): number {
    const all = new Set(this.permanent.secrets);
    for (const generations of this.owners.values()) for (const g of generations) for (const s of g.secrets) all.add(s);
    return all.size;
  }

  redact(text: string): string {
    // A text shorter than every registered secret holds none of them: most fields of a log line (a
    // profile name, a timestamp) are shorter than an issued secret key, so they skip the scan.
    let out = text.length >= this.shortest ? this.maskRegistered(text) : text;
    if (out.includes('PRIVATE KEY-----')) out = out.replace(PEM_KEY, '[REDACTED PRIVATE KEY]');
    if (out.includes('://')) out = out.replace(URL_PASSWORD, '$1****@');
    return out.replace(ASSIGNMENT, (_m, k: string, v: string) => `${k}${mask(v)}`);
  }

  /** Deep copy of a log record with every string redacted. */
  redactValue(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (depth > 6 || value === null || typeof value !== 'object') return value;
    if (value instanceof Error) return this.redact(value.message);
    if (Array.isArray(value)) return value.map((v) => this.redactValue(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.redactValue(v, depth + 1);
    return out;
  }

  /** Every registered secret in `text` masked; where two start at one place, the longer wins. */
  private maskRegistered(text: string): string {
    let out = '';
    let copied = 0;
    for (let i = 0; i + MIN_SECRET <= text.length; ) {
      const candidates = this.index.get(text.slice(i, i + MIN_SECRET));
      let found: string | undefined;
      if (candidates) {
        for (const g of candidates) for (const s of g.secrets) if ((!found || s.length > found.length) && text.startsWith(s, i)) found = s;
      }
      if (found) {
        out += text.slice(copied, i) + mask(found);
        i += found.length;
        copied = i;
      } else {
        i++;
      }
    }
    return copied === 0 ? text : out + text.slice(copied);
  }

  private retain(generation: Generation, secret: string): void {
    this.lengths.set(secret.length, (this.lengths.get(secret.length) ?? 0) + 1);
    if (secret.length < this.shortest) this.shortest = secret.length;
    const key = secret.slice(0, MIN_SECRET);
    const bucket = this.index.get(key);
    if (bucket) bucket.add(generation);
    else this.index.set(key, new Set([generation]));
  }

  private release(generation: Generation, secret: string): void {
    const left = (this.lengths.get(secret.length) ?? 1) - 1;
    if (left > 0) this.lengths.set(secret.length, left);
    else {
      this.lengths.delete(secret.length);
      if (secret.length === this.shortest) this.shortest = Math.min(Infinity, ...this.lengths.keys());
    }
    const key = secret.slice(0, MIN_SECRET);
    const bucket = this.index.get(key);
    bucket?.delete(generation);
    if (bucket?.size === 0) this.index.delete(key);
  }
}
