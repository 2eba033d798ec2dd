/**
 * Readers of the credentials file. `parseStrict` accepts what botocore accepts and reads what it
 * reads, and refuses — with every offending line number — what botocore would refuse (duplicate
 * sections or keys, a key before the first header, malformed lines) plus the lines the readers
 * disagree on. `readProfiles` is the forgiving view for status displays. `readLikeJsSdk` models the
 * JavaScript SDK's reader, so a candidate file can be checked against both families before it is
 * written; `readLikeBotocore` is botocore's reading of a file that parses, [DEFAULT]'s keys lent to
 * every other section (parseStrict's sections are the file's own). Line numbers here never carry a
 * path: callers add it.
 */
import { AgentError } from '../errors.js';
import { classify, splitLines, withoutControls, type ClassifiedLine, type Dialect, type SplitText } from './syntax.js';

export type IssueKind = 'duplicate-section' | 'duplicate-key' | 'before-header' | 'malformed';

export interface Issue {
  readonly kind: IssueKind;
  /** 1-based line number. */
  readonly line: number;
  readonly message: string;
}

export interface StrictKey {
  readonly value: string;
  readonly line: number;
}

export interface StrictSection {
  readonly name: string;
  /** Line number of the header. */
  readonly line: number;
  /** Lower-cased key → value (continuation lines joined with '\n', as botocore does). */
  readonly keys: ReadonlyMap<string, StrictKey>;
}

export interface StrictFile {
  readonly sections: ReadonlyMap<string, StrictSection>;
}

/** A section as a run of lines: the header and everything up to the next header. */
export interface SectionSpan {
  readonly name: string;
  /** Index of the header in `lines`. */
  readonly header: number;
  /** Index one past the section's last line. */
  readonly end: number;
}

export interface Analysis {
  readonly split: SplitText;
  readonly lines: readonly ClassifiedLine[];
  readonly spans: readonly SectionSpan[];
  readonly issues: readonly Issue[];
}

// Names echoed in messages: anything else is described without being quoted (it could be a secret
// pasted on the wrong line).
const PRINTABLE_NAME = /^[A-Za-z0-9_.@+:\/ -]{1,64}$/;
export function quoteName(name: string, what: string): string {
  return PRINTABLE_NAME.test(name) ? `${what} "${name}"` : `a ${what}`;
}

export function analyse(text: string, dialect: Dialect = 'credentials'): Analysis {
  const split = splitLines(text);
  const lines = classify(split.lines, dialect === 'config' || withoutControls(text), dialect);
  const spans: SectionSpan[] = [];
  const issues: Issue[] = [];
  if (split.bom) {
    // botocore reads the mark as part of the first line (a header it does not see, or a key it
    // refuses), so the AWS CLI fails on the file while other readers succeed.
    issues.push({
      kind: 'malformed',
      line: 1,
      message: "line 1: the file starts with a UTF-8 byte order mark (U+FEFF), which botocore and the AWS CLI cannot read — save it without one, e.g. sed -i '1s/^\\xEF\\xBB\\xBF//' on the file",
    });
  }
  const firstHeader = new Map<string, number>();
  let keysSeen = new Map<string, number>();
  let open: { name: string; header: number } | undefined;
  lines.forEach((l, i) => {
    switch (l.kind) {
      case 'header': {
        if (open) spans.push({ ...open, end: i });
        open = { name: l.section!, header: i };
        keysSeen = new Map();
        const first = firstHeader.get(l.section!);
        if (first !== undefined) {
          issues.push({
            kind: 'duplicate-section',
            line: l.number,
            message: `line ${l.number}: ${quoteName(l.section!, 'section')} appears again (first on line ${first})`,
          });
        } else {
          firstHeader.set(l.section!, l.number);
        }
        break;
      }
      case 'key': {
        if (l.beforeHeader) {
          issues.push({ kind: 'before-header', line: l.number, message: `line ${l.number}: a key comes before the first [section] header` });
          break;
        }
        const first = keysSeen.get(l.key!);
        if (first !== undefined) {
          issues.push({
            kind: 'duplicate-key',
            line: l.number,
            message: `line ${l.number}: ${quoteName(l.key!, 'key')} appears again in ${quoteName(open!.name, 'section')} (first on line ${first}; keys ignore case)`,
          });
        } else {
          keysSeen.set(l.key!, l.number);
        }
        break;
      }
      case 'malformed':
        issues.push({
          kind: l.beforeHeader ? 'before-header' : 'malformed',
          line: l.number,
          message: `line ${l.number} ${l.problem!}${l.beforeHeader ? ' (before the first [section] header)' : ''}`,
        });
        break;
      default:
        break;
    }
  });
  if (open) spans.push({ ...open, end: lines.length });
  return { split, lines, spans, issues };
}

/** The value botocore gives the key on line index `k`: continuation lines joined by '\n'. */
export function keyValue(lines: readonly ClassifiedLine[], k: number): string {
  const parts = [lines[k]!.value!];
  let pendingBlanks = 0;
  for (let i = k + 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.kind === 'blank') pendingBlanks++;
    else if (l.kind === 'comment') continue;
    else if (l.kind === 'continuation' && l.continues === k) {
      for (; pendingBlanks > 0; pendingBlanks--) parts.push('');
      parts.push(l.text.trim());
    } else break;
  }
  return parts.join('\n').trimEnd();
}

/** The error for a list of issues, without a path; CREDENTIALS_FILE_DUPLICATE when all are duplicates. */
export function issuesError(issues: readonly Issue[]): AgentError {
  const onlyDuplicates = issues.every((i) => i.kind === 'duplicate-section' || i.kind === 'duplicate-key');
  const shown = issues.slice(0, 5).map((i) => i.message);
  if (issues.length > shown.length) shown.push(`and ${issues.length - shown.length} more`);
  const hint = onlyDuplicates
    ? 'botocore and the AWS CLI refuse a file with a repeated section or key: merge the repeats into one, then the agent can write its profiles'
    : 'botocore and the AWS CLI refuse the whole file over such lines: fix or remove them, then the agent can write its profiles';
  return new AgentError(onlyDuplicates ? 'CREDENTIALS_FILE_DUPLICATE' : 'CREDENTIALS_FILE', shown.join('; '), { hint });
}

function sectionsOf(a: Analysis): Map<string, StrictSection> {
  const sections = new Map<string, StrictSection>();
  for (const span of a.spans) {
    if (sections.has(span.name)) continue;
    const keys = new Map<string, StrictKey>();
    for (let i = span.header + 1; i < span.end; i++) {
      const l = a.lines[i]!;
      if (l.kind === 'key' && !keys.has(l.key!)) keys.set(l.key!, { value: keyValue(a.lines, i), line: l.number });
    }
    sections.set(span.name, { name: span.name, line: a.lines[span.header]!.number, keys });
  }
  return sections;
}

/** Sections and keys as botocore reads them; throws an AgentError naming every offending line. */
export function parseStrict(text: string): StrictFile {
  const a = analyse(text);
  if (a.issues.length) throw issuesError(a.issues);
  return { sections: sectionsOf(a) };
}

/** Every problem parseStrict would refuse, without throwing. */
export function findIssues(text: string): Issue[] {
  return [...analyse(text).issues];
}

/**
 * Every section in file order, a repeated header giving a second section (botocore refuses such a
 * file; the caller decides what to say), keys lower-cased with botocore's values (the first of a
 * repeated key). With `dialect: 'config'` this is how `import` reads the AWS config file; a nested
 * sub-section (`s3 =` and indented `key = value` lines) is one value that starts with a newline.
 */
export function readSections(text: string, dialect: Dialect = 'credentials'): StrictSection[] {
  const a = analyse(text, dialect);
  return a.spans.map((span) => {
    const keys = new Map<string, StrictKey>();
    for (let i = span.header + 1; i < span.end; i++) {
      const l = a.lines[i]!;
      if (l.kind === 'key' && !keys.has(l.key!)) keys.set(l.key!, { value: keyValue(a.lines, i), line: l.number });
    }
    return { name: span.name, line: a.lines[span.header]!.number, keys };
  });
}

/**
 * The forgiving view (for status output): profile → lower-cased key → value. Never throws on syntax;
 * of repeated sections or keys the first wins, malformed lines are skipped.
 */
export function readProfiles(text: string): Map<string, Map<string, string>> {
  const a = analyse(text);
  const out = new Map<string, Map<string, string>>();
  for (const span of a.spans) {
    let keys = out.get(span.name);
    if (!keys) out.set(span.name, (keys = new Map()));
    for (let i = span.header + 1; i < span.end; i++) {
      const l = a.lines[i]!;
      if (l.kind === 'key' && !keys.has(l.key!)) keys.set(l.key!, keyValue(a.lines, i));
    }
  }
  return out;
}

/**
 * botocore's RawConfigParser reads [DEFAULT] as defaults for every other section, and never as a
 * section of its own (the JavaScript SDK reads it as an ordinary section).
 */
export const DEFAULT_SECTION = 'DEFAULT';

/**
 * What botocore reads from a file that parses strictly: section → key (lower-cased) → value, each
 * section also holding the keys of [DEFAULT] it does not set itself. [DEFAULT] stays in the map as
 * well (botocore lists it nowhere), so that a change to it is seen.
 */
export function readLikeBotocore(a: Analysis): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const span of a.spans) {
    const keys = new Map<string, string>();
    for (let i = span.header + 1; i < span.end; i++) {
      const l = a.lines[i]!;
      if (l.kind === 'key') keys.set(l.key!, keyValue(a.lines, i));
    }
    out.set(span.name, keys);
  }
  const defaults = out.get(DEFAULT_SECTION);
  if (defaults?.size) {
    for (const [name, keys] of out) {
      if (name === DEFAULT_SECTION) continue;
      for (const [k, v] of defaults) if (!keys.has(k)) keys.set(k, v);
    }
  }
  return out;
}

const SECTION_TYPE = /^([\w-]+)\s(["'])?([\w\-@+.%:/]+)\2$/;
const SECTION_TYPES = new Set(['profile', 'sso-session', 'services']);

/**
 * What the AWS SDK for JavaScript v3 reads from the same text: only '=' separates, keys keep their
 * case, ' #' and ' ;' start a comment anywhere, indentation only matters under a key with an empty
 * value (a sub-section), a later repeat wins. Written from its observed behaviour, not its code.
 * `headers`, when given, counts the header lines that open each section (a section opened twice
 * merges, the later key winning).
 */
export function readLikeJsSdk(text: string, headers?: Map<string, number>): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let section: string | undefined;
  let sub: string | undefined;
  for (const raw of text.includes('\r') ? text.split(/\r?\n/) : text.split('\n')) {
    const line = (raw.includes('#') || raw.includes(';') ? raw.split(/(?:^|\s)[;#]/)[0]! : raw).trim();
    if (line.startsWith('[') && line.endsWith(']')) {
      const name = line.slice(1, -1);
      sub = undefined;
      const typed = SECTION_TYPE.exec(name);
      section = typed ? (SECTION_TYPES.has(typed[1]!) ? `${typed[1]}.${typed[3]}` : undefined) : name;
      if (headers && section !== undefined) headers.set(section, (headers.get(section) ?? 0) + 1);
      continue;
    }
    if (section === undefined) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (value === '') {
      sub = key;
      continue;
    }
    if (sub !== undefined && raw.trimStart() === raw) sub = undefined;
    let keys = out.get(section);
    if (!keys) out.set(section, (keys = new Map()));
    keys.set(sub === undefined ? key : `${sub}.${key}`, value);
  }
  return out;
}
