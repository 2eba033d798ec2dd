/**
 * The pure profile edit: given the text of a credentials file and a batch of (profile, credentials),
 * returns the new text in which only those profiles' credential keys changed. Every other byte —
 * comments, blank lines, order, other profiles, unknown keys, line endings, a missing final newline,
 * a byte order mark — is put back as it was. The result is checked before it is returned: it must
 * read back, under botocore's rules and under the JavaScript SDK's, to exactly the new values, with
 * every other section and key unchanged; otherwise the edit throws and nothing is written. An edit
 * of its own last result checks only the sections it changes when the layout proves the rest reads
 * as before (editInPlace).
 *
 * Profile names follow profile-name.ts (letters, digits and `_ . @ + -`, at most 64, not DEFAULT
 * or __proto__): every reader handles those the same way. `[profile x]` is the ~/.aws/config convention; the credentials
 * file uses bare names, `[default]` included.
 */
import { formatExpiration, type Credentials } from '../credentials.js';
import { AgentError } from '../errors.js';
import { analyse, DEFAULT_SECTION, issuesError, quoteName, readLikeBotocore, readLikeJsSdk, type Analysis, type SectionSpan } from './parse.js';
import { profileNameProblem } from './profile-name.js';
import { joinLines } from './syntax.js';

export interface ProfileUpdate {
  readonly profile: string;
  readonly credentials: Credentials;
}

/**
 * Take the agent's keys out of a profile (its identity changed, or it left the schedule): our three
 * keys, our expiry key and a stale aws_security_token go; every other key and comment stays. The
 * section itself goes only when nothing else was in it and it held our expiry key — the mark that
 * the agent wrote it.
 */
export interface ProfileRemoval {
  readonly profile: string;
  readonly remove: true;
}

export type ProfileChange = ProfileUpdate | ProfileRemoval;

export function isRemoval(c: ProfileChange): c is ProfileRemoval {
  return (c as ProfileRemoval).remove === true;
}

/** The keys the agent owns in its profiles, in the order they are added. */
export const OWN_KEYS = ['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token', 'x_security_token_expires'] as const;
export type OwnKey = (typeof OWN_KEYS)[number];
/** Removed from our profiles: botocore reads it before aws_session_token, so a stale one would win. */
export const STALE_KEYS = ['aws_security_token'] as const;

/** Longest credential value accepted (session tokens are a few KiB). */
export const MAX_VALUE_LENGTH = 16 * 1024;

/** The writer's check of a name: the same rule as the schedule's (profile-name.ts). */
export function validateProfileName(profile: string): void {
  const problem = profileNameProblem(profile);
  if (problem) throw new AgentError('ARGUMENT_INVALID', `the profile cannot be written to the credentials file: ${problem.message}`, { hint: problem.hint });
}

/** Printable ASCII (0x21-0x7e) except the characters some reader cuts at, unquotes or unescapes: # ; " ' \ */
const VALID_VALUE = /^[\x21\x24-\x26\x28-\x3a\x3c-\x5b\x5d-\x7e]+$/;

function validValue(v: string): boolean {
  return v.length > 0 && v.length <= MAX_VALUE_LENGTH && VALID_VALUE.test(v);
}

export { formatExpiration };

/**
 * What ownValues returned for a credentials object, and the expiry it checked (to the millisecond,
 * which the written value drops). One refresh's write is checked three times: by the writer as it
 * arrives (a bad one is refused alone), by replaceProfiles before the disk is touched, and by
 * editProfiles; the second and third reuse the first while the object holds the same values (the
 * session token's character check was ~2 % of a 1000-profile refresh cycle's CPU). The profile
 * name is checked every time: it is not part of the object.
 */
const checked = new WeakMap<Credentials, { time: number; values: Readonly<Record<OwnKey, string>> }>();

/** The four values written for one profile; throws ARGUMENT_INVALID (never quoting a secret). */
export function ownValues(update: ProfileUpdate): Readonly<Record<OwnKey, string>> {
  validateProfileName(update.profile);
  const c = update.credentials;
  const seen = typeof c === 'object' && c !== null ? checked.get(c) : undefined;
  if (
    seen &&
    seen.values.aws_access_key_id === c.accessKeyId &&
    seen.values.aws_secret_access_key === c.secretAccessKey &&
    seen.values.aws_session_token === c.sessionToken &&
    c.expiration instanceof Date &&
    seen.time === c.expiration.getTime()
  ) {
    return seen.values;
  }
  const who = `profile "${update.profile}"`;
  const fields: [string, unknown][] = [
    ['access key id', c?.accessKeyId],
    ['secret access key', c?.secretAccessKey],
    ['session token', c?.sessionToken],
  ];
  for (const [what, v] of fields) {
    if (typeof v !== 'string' || !validValue(v)) {
      throw new AgentError(
        'ARGUMENT_INVALID',
        `${who}: the ${what} is empty, longer than ${MAX_VALUE_LENGTH} characters, or holds whitespace, a non-ASCII character, "#", ";", a quote or a backslash`,
        { hint: 'the credentials did not come from AWS as expected; nothing was written' },
      );
    }
  }
  const t = c.expiration instanceof Date ? c.expiration.getTime() : NaN;
  if (!Number.isFinite(t) || t < 0 || t >= Date.UTC(10000, 0, 1)) {
    throw new AgentError('ARGUMENT_INVALID', `${who}: the expiration is not a valid date between 1970 and 9999`, {
      hint: 'the credentials did not come from AWS as expected; nothing was written',
    });
  }
  const values = Object.freeze({
    aws_access_key_id: c.accessKeyId,
    aws_secret_access_key: c.secretAccessKey,
    aws_session_token: c.sessionToken,
    x_security_token_expires: formatExpiration(c.expiration),
  });
  checked.set(c, { time: t, values });
  return values;
}

/** Checks one change as ownValues does (a removal: its profile name only); throws ARGUMENT_INVALID. */
export function checkChange(c: ProfileChange): void {
  if (isRemoval(c)) validateProfileName(c.profile);
  else ownValues(c);
}

/** Values to write, or null to remove. */
type Wanted = Map<string, Readonly<Record<OwnKey, string>> | null>;

/** Validated changes, one per profile (a later change of the same profile wins), in first-seen order. */
function normalise(changes: ReadonlyArray<ProfileChange>): Wanted {
  const wanted: Wanted = new Map();
  for (const c of changes) {
    if (isRemoval(c)) {
      validateProfileName(c.profile);
      // A removal after a write of the same profile moves it to the removal's place in the order.
      wanted.delete(c.profile);
      wanted.set(c.profile, null);
    } else {
      wanted.set(c.profile, ownValues(c));
    }
  }
  return wanted;
}

const OWN = new Set<string>(OWN_KEYS);
const STALE = new Set<string>(STALE_KEYS);

/** Both readers' view of a text: section → key → value. */
interface Readings {
  /** botocore's reading. */
  readonly strict: Map<string, Map<string, string>>;
  /** The JavaScript SDK's reading. */
  readonly js: Map<string, Map<string, string>>;
  /** How many header lines open each section of the JavaScript SDK's reading. */
  readonly jsHeaders: Map<string, number>;
}

function read(text: string, analysis = analyse(text)): Readings {
  const jsHeaders = new Map<string, number>();
  return { strict: readLikeBotocore(analysis), js: readLikeJsSdk(text, jsHeaders), jsHeaders };
}

/** A text editProfiles returned, with its parse and both readings (all pure functions of the text). */
interface Checked {
  readonly text: string;
  readonly analysis: Analysis;
  readonly readings: Readings;
  /** The analysis's sections by name, made when first needed. */
  byName?: Map<string, SectionSpan>;
}

/**
 * The parse and both readings of the last text editProfiles returned. The agent's next replace
 * reads that same text back unless something else wrote the file in between, and then reuses them
 * instead of working them out again: half the CPU of an edit (250 profiles into a 1000-profile
 * file, 1 MB: 62 → 31 ms, as the agent runs it), and with editInPlace most of the rest. Only an
 * identical text is reused, so a file edited by anyone else is parsed afresh; both are pure
 * functions of the text.
 */
let lastChecked: Checked | undefined;

/** How many edits took each way since the process started (read by tests). */
export const editCounts = { inPlace: 0, whole: 0 };

export function editProfiles(text: string, updates: ReadonlyArray<ProfileChange>): string {
  const wanted = normalise(updates);
  const reuse = lastChecked?.text === text ? lastChecked : undefined;
  const quick = reuse && editInPlace(reuse, wanted);
  if (quick) {
    editCounts.inPlace++;
    lastChecked = quick;
    return quick.text;
  }
  editCounts.whole++;
  const a = reuse?.analysis ?? analyse(text);
  if (a.issues.length) throw issuesError(a.issues);
  const { lines, split } = a;
  refuseStaleDefaults(a);

  const replace = new Map<number, string>();
  const drop = new Set<number>();
  const insertAfter = new Map<number, string[]>();
  const present = new Set<string>();
  for (const span of a.spans) {
    const want = wanted.get(span.name);
    if (want === undefined) continue;
    present.add(span.name);
    if (want === null) {
      removeOwnKeys(a, span, drop);
      continue;
    }
    let anchor = span.header;
    let indent = lines[span.header]!.indent;
    const found = new Set<string>();
    for (let i = span.header + 1; i < span.end; i++) {
      const l = lines[i]!;
      if (l.kind === 'key') {
        anchor = i;
        indent = l.indent;
        // The indentation stays: botocore decides by it whether the following lines continue a value.
        if (OWN.has(l.key!)) {
          replace.set(i, `${l.indent}${l.key} = ${want[l.key as OwnKey]}`);
          found.add(l.key!);
        } else if (STALE.has(l.key!)) {
          drop.add(i);
        }
      } else if (l.kind === 'continuation') {
        anchor = i;
        // Continuation lines belong to the old value of a key we rewrite or remove.
        if (replace.has(l.continues!) || drop.has(l.continues!)) drop.add(i);
      }
    }
    const missing = OWN_KEYS.filter((k) => !found.has(k));
    if (missing.length) insertAfter.set(anchor, missing.map((k) => `${indent}${k} = ${want[k]}`));
  }

  const out: { text: string; eol: string }[] = [];
  lines.forEach((l, i) => {
    if (!drop.has(i)) out.push({ text: replace.get(i) ?? l.text, eol: l.eol });
    for (const t of insertAfter.get(i) ?? []) out.push({ text: t, eol: split.eol });
  });
  for (let j = 0; j < out.length - 1; j++) if (out[j]!.eol === '') out[j]!.eol = split.eol;
  const last = out[out.length - 1];
  if (last) last.eol = split.finalNewline ? last.eol || split.eol : '';

  for (const [profile, want] of wanted) {
    if (present.has(profile) || want === null) continue;
    const tail = out[out.length - 1];
    if (tail && tail.eol === '') tail.eol = split.eol;
    out.push({ text: `[${profile}]`, eol: split.eol });
    for (const k of OWN_KEYS) out.push({ text: `${k} = ${want[k]}`, eol: split.eol });
  }

  const candidate = joinLines(split, out);
  const checked = check(reuse?.readings ?? read(text, a), candidate, wanted);
  lastChecked = { text: candidate, ...checked };
  return candidate;
}

// A header that botocore reads as a header whatever came before it (it starts the line), and the
// JavaScript SDK too (nothing after the bracket, no comment sign inside it).
const PLAIN_HEADER = /^\[[^\]#;]+\]\s*$/;

/**
 * The refresh's usual edit, checked at a cost that follows the profiles changed rather than the size
 * of the file (a 1000-profile, 1 MB file: the whole-file check parsed and read all of it under both
 * readers on every replace). It applies when every change writes a profile that the last text
 * already holds:
 * - under a header that is exactly `[name]`, and that no other line of the file opens for the
 *   JavaScript SDK;
 * - with each of our four keys on a line of its own, no line continuing one of them, and no stale
 *   session token;
 * - followed by the end of the file or by a header at the start of its line.
 * Then only our key lines change, and no line of another section reads differently under either
 * reader. botocore's reading starts afresh at a header at the start of a line, and the JavaScript
 * SDK's at every header; a value read from the line before a header ends at the header.
 *
 * Each changed section is then checked as check() checks it, from its own text (both readers,
 * [DEFAULT]'s keys lent to it as botocore lends them). Returns undefined when a condition does not
 * hold or a check fails. The whole-file edit then runs, and names what is wrong. The property test
 * in edit-in-place.property.test.ts compares the two on generated files.
 */
function editInPlace(last: Checked, wanted: Wanted): Checked | undefined {
  const { analysis: a, readings } = last;
  if (a.issues.length || a.split.bom) return undefined;
  const lent = readings.strict.get(DEFAULT_SECTION);
  if (lent && hasStale(lent)) return undefined;
  const byName = (last.byName ??= new Map(a.spans.map((span) => [span.name, span])));
  const lines = a.lines.slice();
  const strict = new Map(readings.strict);
  const js = new Map(readings.js);
  for (const [profile, want] of wanted) {
    // A removal may drop lines or the header: the whole-file edit handles it.
    if (!want) return undefined;
    const span = byName.get(profile);
    if (!span || a.lines[span.header]!.text !== `[${profile}]` || readings.jsHeaders.get(profile) !== 1) return undefined;
    const next = a.lines[span.end];
    if (next && !PLAIN_HEADER.test(next.text)) return undefined;
    let own = 0;
    let spanText = '';
    for (let i = span.header; i < span.end; i++) {
      const l = a.lines[i]!;
      let text = l.text;
      if (l.kind === 'key' && OWN.has(l.key!)) {
        own++;
        text = `${l.indent}${l.key} = ${want[l.key as OwnKey]}`;
      } else if ((l.kind === 'key' && STALE.has(l.key!)) || (l.kind === 'continuation' && OWN.has(a.lines[l.continues!]!.key!))) {
        return undefined;
      }
      spanText += text + l.eol;
    }
    if (own !== OWN_KEYS.length) return undefined;

    const sa = analyse(spanText);
    if (sa.issues.length || sa.spans.length !== 1 || sa.lines.length !== span.end - span.header) return undefined;
    const s = readLikeBotocore(sa).get(profile);
    const headers = new Map<string, number>();
    const j = readLikeJsSdk(spanText, headers).get(profile);
    if (!s || !j || headers.size !== 1 || headers.get(profile) !== 1) return undefined;
    if (lent) for (const [k, v] of lent) if (!s.has(k)) s.set(k, v);
    for (const k of OWN_KEYS) if (s.get(k) !== want[k] || j.get(k) !== want[k]) return undefined;
    if (hasStale(s)) return undefined;
    if (!sameMap(readings.strict.get(profile), s, ours) || !sameMap(readings.js.get(profile), j, ours)) return undefined;
    strict.set(profile, s);
    js.set(profile, j);
    for (let k = 0; k < sa.lines.length; k++) {
      const l = sa.lines[k]!;
      lines[span.header + k] = { ...l, number: l.number + span.header, continues: l.continues === undefined ? undefined : l.continues + span.header };
    }
  }
  const text = joinLines(a.split, lines);
  return {
    text,
    analysis: { split: { ...a.split, lines }, lines, spans: a.spans, issues: [] },
    readings: { strict, js, jsHeaders: readings.jsHeaders },
    byName,
  };
}

function hasStale(keys: ReadonlyMap<string, string>): boolean {
  for (const k of STALE_KEYS) if (keys.has(k)) return true;
  return false;
}

/** Marks our keys of the section (and their continuation lines) for dropping; the header too when nothing else is left. */
function removeOwnKeys(a: Analysis, span: { header: number; end: number }, drop: Set<number>): void {
  const { lines } = a;
  const mine: number[] = [];
  let onlyOurs = true;
  let expiryKey = false;
  for (let i = span.header + 1; i < span.end; i++) {
    const l = lines[i]!;
    if (l.kind === 'key' && (OWN.has(l.key!) || STALE.has(l.key!))) {
      mine.push(i);
      if (l.key === 'x_security_token_expires') expiryKey = true;
    } else if (l.kind === 'continuation' && mine.includes(l.continues!)) {
      mine.push(i);
    } else if (l.kind !== 'blank') {
      onlyOurs = false;
    }
  }
  for (const i of mine) drop.add(i);
  // Blank lines stay: they separate the sections around it as they did before.
  if (onlyOurs && expiryKey) drop.add(span.header);
}

function fail(message: string): never {
  throw new AgentError('CREDENTIALS_FILE', message, {
    hint: 'the file was left as it was; simplify the indentation or layout around the named profile and try again',
  });
}

/** The same keys (those `skip` does not pass over) with the same values. */
function sameMap(a: ReadonlyMap<string, string> | undefined, b: ReadonlyMap<string, string> | undefined, skip: (k: string) => boolean): boolean {
  let counted = 0;
  if (a) {
    for (const [k, v] of a) {
      if (skip(k)) continue;
      if (b?.get(k) !== v) return false;
      counted++;
    }
  }
  if (b) for (const k of b.keys()) if (!skip(k)) counted--;
  return counted === 0;
}

/**
 * A stale session token in [DEFAULT] reaches every profile under botocore, ours included, and wins
 * over the aws_session_token we write: refused, naming the line (never the value).
 */
function refuseStaleDefaults(a: Analysis): void {
  const span = a.spans.find((s) => s.name === DEFAULT_SECTION);
  if (!span) return;
  for (let i = span.header + 1; i < span.end; i++) {
    const l = a.lines[i]!;
    if (l.kind === 'key' && STALE.has(l.key!)) {
      throw new AgentError('CREDENTIALS_FILE', `line ${l.number}: [DEFAULT] sets ${l.key}, which botocore would read in every profile instead of its aws_session_token`, {
        hint: `remove ${l.key} from [DEFAULT]: botocore and the AWS CLI give every profile the keys of [DEFAULT], and read this one before aws_session_token`,
      });
    }
  }
}

/**
 * The check editProfiles runs on every candidate before returning it: it parses strictly; each updated
 * profile holds exactly the new values (under botocore's reading and the JavaScript SDK's) and no
 * stale session token; every other section and every other key reads as before. Throws
 * CREDENTIALS_FILE (path-less) otherwise.
 */
export function verifyCandidate(original: string, candidate: string, updates: ReadonlyArray<ProfileChange>): void {
  check(read(original), candidate, normalise(updates));
}

/**
 * A key is ours when botocore would name it so (up to the first '=' or ':'): the JavaScript SDK
 * reads `aws_access_key_id: x = y` as a key "aws_access_key_id: x", which our rewrite replaces.
 * This and `none` are module functions, not closures made per check: optimised code that calls a
 * per-call closure holds it weakly, and was thrown away and compiled again after every full GC
 * (--trace-opt on a 1000-profile agent: `ours` compiled 6 times in four warm refresh cycles).
 */
function ours(k: string): boolean {
  if (OWN.has(k)) return true;
  const name = k.split(/[=:]/)[0]!.trim().toLowerCase();
  return OWN.has(name) || STALE.has(name);
}

function none(): boolean {
  return false;
}

/** Throws unless `candidate` reads as described above; returns its parse and readings. */
function check(before: Readings, candidate: string, wanted: Wanted): { analysis: Analysis; readings: Readings } {
  const analysis = analyse(candidate);
  if (analysis.issues.length) fail(`the edited file would not parse: ${issuesError(analysis.issues).message}`);
  const after = read(candidate, analysis);
  const { strict: mb, js: jb } = before;
  const { strict: ma, js: ja } = after;
  for (const [profile, want] of wanted) {
    const s = ma.get(profile);
    const j = ja.get(profile);
    if (want === null) {
      // botocore lends [DEFAULT]'s keys to every section: only those may remain.
      const lent = ma.get(DEFAULT_SECTION);
      for (const k of [...OWN_KEYS, ...STALE_KEYS]) if (s?.get(k) !== lent?.get(k)) fail(`profile "${profile}": ${k} would remain (botocore's reading)`);
      for (const k of j?.keys() ?? []) if (ours(k)) fail(`profile "${profile}": ${k.split(/[=:]/)[0]!.trim()} would remain (the JavaScript SDK's reading)`);
      if (!sameMap(mb.get(profile) ?? mb.get(DEFAULT_SECTION), s ?? ma.get(DEFAULT_SECTION), ours)) fail(`profile "${profile}": another key of the profile would read differently (botocore's reading)`);
      if (!sameMap(jb.get(profile), j, ours)) fail(`profile "${profile}": another key of the profile would read differently (the JavaScript SDK's reading)`);
      continue;
    }
    for (const k of OWN_KEYS) {
      if (s?.get(k) !== want[k]) fail(`profile "${profile}": ${k} would not read back as written (botocore's reading)`);
      if (j?.get(k) !== want[k]) fail(`profile "${profile}": ${k} would not read back as written (the JavaScript SDK's reading)`);
    }
    for (const k of STALE_KEYS) if (s?.has(k)) fail(`profile "${profile}": a stale ${k} would remain`);
    // A profile the file did not hold reads, for botocore, as [DEFAULT] alone.
    if (!sameMap(mb.get(profile) ?? mb.get(DEFAULT_SECTION), s, ours)) fail(`profile "${profile}": another key of the profile would read differently (botocore's reading)`);
    if (!sameMap(jb.get(profile), j, ours)) fail(`profile "${profile}": another key of the profile would read differently (the JavaScript SDK's reading)`);
  }
  const sectionsBefore = [...mb.keys()].filter((n) => !wanted.has(n));
  const sectionsAfter = [...ma.keys()].filter((n) => !wanted.has(n));
  if (sectionsBefore.length !== sectionsAfter.length || sectionsBefore.some((n, i) => sectionsAfter[i] !== n)) {
    fail('the other sections of the file would change (botocore\'s reading)');
  }
  for (const n of sectionsBefore) {
    if (!sameMap(mb.get(n), ma.get(n), none)) fail(`${quoteName(n, 'section')} would read differently (botocore's reading)`);
  }
  for (const [n, keys] of jb) {
    if (!wanted.has(n) && !sameMap(keys, ja.get(n), none)) fail(`${quoteName(n, 'section')} would read differently (the JavaScript SDK's reading)`);
  }
  for (const n of ja.keys()) {
    if (!wanted.has(n) && !jb.has(n)) fail(`a new ${quoteName(n, 'section')} would appear (the JavaScript SDK's reading)`);
  }
  return { analysis, readings: after };
}
