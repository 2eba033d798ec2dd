/**
 * The grammar of the shared credentials file as this project reads it: splitting text into lines that
 * keep their own terminators (so an edit can put every untouched byte back), and classifying each
 * line the way botocore's RawConfigParser does — the strictest of the real readers, and the one that
 * rejects the whole file when it dislikes one line. Constructs on which the readers disagree (a
 * stray carriage return, control characters, a `[` line that is not a clean header) are marked
 * malformed rather than guessed at.
 */

/** One physical line, terminator kept apart so the file can be rebuilt byte for byte. */
export interface Line {
  /** 1-based, counted after the byte order mark. */
  readonly number: number;
  /** The text without its terminator. */
  readonly text: string;
  /** '\n', '\r\n', or '' for a last line without a terminator. */
  readonly eol: string;
}

export interface SplitText {
  /** The file started with U+FEFF (kept on rebuild). */
  readonly bom: boolean;
  readonly lines: readonly Line[];
  /** The file's own line ending (its first terminator), used for lines we add; LF when it has none. */
  readonly eol: '\n' | '\r\n';
  /** The last line ends with a terminator (or the file is empty). */
  readonly finalNewline: boolean;
}

/** A line longer than this is refused: no real credentials file has one, and it bounds the work. */
export const MAX_LINE_LENGTH = 64 * 1024;

const BOM = '\uFEFF';

export function splitLines(text: string): SplitText {
  const bom = text.startsWith(BOM);
  const body = bom ? text.slice(1) : text;
  const lines: Line[] = [];
  let eol: '\n' | '\r\n' | undefined;
  let start = 0;
  while (start < body.length) {
    const nl = body.indexOf('\n', start);
    if (nl === -1) {
      lines.push({ number: lines.length + 1, text: body.slice(start), eol: '' });
      break;
    }
    const crlf = nl > start && body.charCodeAt(nl - 1) === 13;
    const end = crlf ? nl - 1 : nl;
    const terminator = crlf ? '\r\n' : '\n';
    eol ??= terminator;
    lines.push({ number: lines.length + 1, text: body.slice(start, end), eol: terminator });
    start = nl + 1;
  }
  const last = lines[lines.length - 1];
  return { bom, lines, eol: eol ?? '\n', finalNewline: last === undefined || last.eol !== '' };
}

export function joinLines(split: Pick<SplitText, 'bom'>, lines: readonly Pick<Line, 'text' | 'eol'>[]): string {
  let out = split.bom ? BOM : '';
  for (const l of lines) out += l.text + l.eol;
  return out;
}

export type LineKind = 'blank' | 'comment' | 'header' | 'key' | 'continuation' | 'malformed';

/**
 * Which file is read. `credentials`: the file the agent writes, where a construct the readers
 * disagree on is malformed. `config`: the AWS config file, only read (by `import`), taken exactly
 * as botocore takes it — a header is whatever lies between the first `[` and the last `]` of the
 * line (`[profile app] (managed)` is profile app), and control characters are text.
 */
export type Dialect = 'credentials' | 'config';

// Python configparser's SECTCRE, matched from the start of the stripped line: the greedy `.+` runs
// to the last `]`.
const BOTOCORE_HEADER = /^\[(.+)\]/;

export interface ClassifiedLine extends Line {
  readonly kind: LineKind;
  /** Leading whitespace (kept when a key line is rewritten, since botocore reads indentation). */
  readonly indent: string;
  /** header: the section name exactly as between the brackets (botocore does not trim it). */
  readonly section?: string;
  /** key: the name lower-cased (botocore's optionxform). */
  readonly key?: string;
  /** key: the value, trimmed. */
  readonly value?: string;
  /** continuation: index (0-based, in the classified array) of the key line this line continues. */
  readonly continues?: number;
  /** malformed: why, in words that never quote the line (it may hold a secret). */
  readonly problem?: string;
  /** key or malformed line met before any section header. */
  readonly beforeHeader?: boolean;
}

// Python's str.strip() and JavaScript's trim() agree on ASCII whitespace; anything else below 0x20
// (and DEL) is read differently by the readers, so such a line is malformed. So are the two
// characters only one side trims: U+FEFF (JavaScript's trim() and \s drop it, botocore keeps it, so
// "\uFEFFaws_access_key_id" was our key and not botocore's) and U+0085 (Python's strip() drops it).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\u0085\uFEFF]/;
const ONE_SIDED_SPACE = /[\u0085\uFEFF]/;

/**
 * True when `text` holds no control character but tab and line feed (so no carriage return either):
 * one scan of the whole text instead of one per line, for the common LF-only file.
 */
export function withoutControls(text: string): boolean {
  return !CONTROL.test(text);
}
// A trailing comment needs a space before it: the JavaScript SDK only sees ' #' and ' ;' as comments.
const HEADER = /^\[([^\]]+)\](?:\s+[#;][^\]]*)?\s*$/;
const WHITESPACE = /\s/;

/**
 * Classifies every line as botocore does: comments and blank lines first, then an indented line
 * right after a key (deeper than that key) continues its value — blank and comment lines between do
 * not end a value — otherwise a header or a `key = value` line. `clean` says the caller checked the
 * whole text for control characters (a carriage return included) and found none.
 */
export function classify(lines: readonly Line[], clean = false, dialect: Dialect = 'credentials'): ClassifiedLine[] {
  const config = dialect === 'config';
  if (config) clean = true;
  const out: ClassifiedLine[] = [];
  let inSection = false;
  let currentKey: number | undefined;
  let indentLevel = 0;
  // One object shape for every line keeps this fast on files of thousands of profiles.
  const push = (line: Line, kind: LineKind, indent: string, more: Partial<ClassifiedLine> = {}) =>
    out.push({
      number: line.number,
      text: line.text,
      eol: line.eol,
      kind,
      indent,
      section: more.section,
      key: more.key,
      value: more.value,
      continues: more.continues,
      problem: more.problem,
      beforeHeader: more.beforeHeader,
    });
  for (const line of lines) {
    const text = line.text;
    if (text.length > MAX_LINE_LENGTH) {
      push(line, 'malformed', '', { problem: `is longer than ${MAX_LINE_LENGTH / 1024} KiB`, beforeHeader: !inSection });
      continue;
    }
    let n = 0;
    while (n < text.length && WHITESPACE.test(text[n]!)) n++;
    const indent = text.slice(0, n);
    if (!clean && (CONTROL.test(text) || text.includes('\r'))) {
      const oneSided = ONE_SIDED_SPACE.exec(text)?.[0];
      const problem = text.includes('\r')
        ? 'holds a carriage return that does not end the line (botocore splits the line there, other readers do not)'
        : oneSided
          ? `holds U+${oneSided.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}, which ${oneSided === '\uFEFF' ? 'JavaScript readers drop as a space and botocore keeps as text' : 'botocore drops as a space and JavaScript readers keep as text'}`
          : 'holds a control character';
      push(line, 'malformed', indent, { problem, beforeHeader: !inSection });
      continue;
    }
    const trimmed = text.trim();
    if (trimmed === '') {
      push(line, 'blank', indent);
      continue;
    }
    const first = trimmed[0];
    if (first === '#' || first === ';') {
      push(line, 'comment', indent);
      continue;
    }
    if (inSection && currentKey !== undefined && indent.length > indentLevel) {
      push(line, 'continuation', indent, { continues: currentKey });
      continue;
    }
    indentLevel = indent.length;
    if (first === '[' && config) {
      const m = BOTOCORE_HEADER.exec(trimmed);
      if (m) {
        inSection = true;
        currentKey = undefined;
        push(line, 'header', indent, { section: m[1]! });
        continue;
      }
      // Not a header to botocore either: it reads the line as an option, as below.
    } else if (first === '[') {
      const m = HEADER.exec(trimmed);
      if (m && !/\s[#;]/.test(m[1]!)) {
        inSection = true;
        currentKey = undefined;
        push(line, 'header', indent, { section: m[1]! });
      } else {
        push(line, 'malformed', indent, {
          problem: 'starts with "[" but is not a plain [name] header (readers disagree on what it means)',
          beforeHeader: !inSection,
        });
      }
      continue;
    }
    // configparser's OPTCRE: the shortest name, then the first '=' or ':', spaces around it.
    const eq = trimmed.indexOf('=');
    const colon = trimmed.indexOf(':');
    const at = eq === -1 ? colon : colon === -1 ? eq : Math.min(eq, colon);
    const name = at === -1 ? '' : trimmed.slice(0, at).trimEnd();
    if (name === '') {
      push(line, 'malformed', indent, {
        problem: at === -1 ? 'is neither a [section] header, a "key = value" line nor a comment' : 'has no key name before "=" or ":"',
        beforeHeader: !inSection,
      });
      continue;
    }
    const value = trimmed.slice(at + 1).trimStart();
    if (!inSection) {
      push(line, 'key', indent, { key: name.toLowerCase(), value, beforeHeader: true });
      continue;
    }
    currentKey = out.length;
    push(line, 'key', indent, { key: name.toLowerCase(), value });
  }
  return out;
}
