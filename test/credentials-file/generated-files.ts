/** Generated credentials files for the property tests of editProfiles, kept as structure so a test knows where every section starts and ends. */
import fc from 'fast-check';
import { OWN_KEYS, type ProfileUpdate } from '../../src/credentials-file/edit.js';
import { creds } from './helpers.js';

export interface GenSection {
  name: string;
  header: string;
  body: string[];
}
export interface GenFile {
  bom: boolean;
  eol: string;
  finalNewline: boolean;
  prelude: string[];
  sections: GenSection[];
  missing: string[];
}

const text = (chars: string, max: number) => fc.stringMatching(new RegExp(`^[${chars}]{0,${max}}$`));
const SAFE = 'A-Za-z0-9 _.,:/+=@#;!?()-';
// Dotted names are rarer so that ini (which nests them) can check most files.
const nameArb = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_@+-]{1,10}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.@+-]{1,10}$/) },
).filter((n) => n !== '__proto__');
const commentArb = fc.tuple(fc.constantFrom('#', ';', '  #', '\t;', '# '), text(SAFE, 20)).map(([p, t]) => p + t);
const blankArb = fc.constantFrom('', '  ', '\t');
const keyNameArb = fc.oneof(
  fc.constantFrom(...OWN_KEYS, 'aws_security_token', 'region', 'output', 'AWS_ACCESS_KEY_ID', 'Aws_Session_Token', 'X_Security_Token_Expires'),
  fc.stringMatching(/^[a-z][a-z0-9_]{0,9}$/),
);
const sepArb = fc.constantFrom(' = ', '=', ' : ', ':', '   =   ', '\t=\t', ' =', ': ');
const valueArb = fc.stringMatching(/^[A-Za-z0-9/+=:#;.,@-]([A-Za-z0-9/+=:#;., @-]{0,20}[A-Za-z0-9/+=:#;.,@-])?$/);
const keyLineArb = fc.tuple(keyNameArb, sepArb, valueArb).map(([k, s, v]) => ({ key: k, line: k + s + v }));
const headerArb = (name: string) =>
  fc
    .oneof({ weight: 10, arbitrary: fc.constantFrom('', '  ', '\t') }, { weight: 1, arbitrary: fc.constantFrom(' # managed', '\t; note', '   ;', ' #x ') })
    .map((tail) => ({ header: `[${name}]${tail}`, decorated: /[#;]/.test(tail) }));

const sectionArb = (name: string) =>
  fc
    .tuple(
      headerArb(name),
      fc.uniqueArray(keyLineArb, { maxLength: 6, selector: (k) => k.key.toLowerCase() }),
      fc.array(fc.oneof(commentArb, blankArb), { maxLength: 4 }),
      fc.array(fc.nat(), { maxLength: 10 }),
    )
    .map(([h, keys, fillers, order]) => {
      // Interleave keys and fillers in a random but key-order-preserving way.
      const body: string[] = [];
      const ks = keys.map((k) => k.line);
      const fs = [...fillers];
      let o = 0;
      while (ks.length || fs.length) {
        const pickKey = fs.length === 0 || (ks.length > 0 && (order[o++ % Math.max(order.length, 1)] ?? 0) % 2 === 0);
        body.push(pickKey ? ks.shift()! : fs.shift()!);
      }
      return { section: { name, header: h.header, body }, decorated: h.decorated };
    });

export const fileArb = fc
  .uniqueArray(nameArb, { minLength: 1, maxLength: 7 })
  .chain((names) =>
    fc
      .tuple(
        // A byte order mark is refused (botocore cannot read such a file): parse.test.ts covers it.
        fc.constant(false),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        fc.array(fc.oneof(commentArb, blankArb), { maxLength: 3 }),
        fc.array(fc.boolean(), { minLength: names.length, maxLength: names.length }),
        fc.tuple(...names.map((n) => sectionArb(n))),
      )
      .map(([bom, eol, finalNewline, prelude, inFile, secs]) => {
        const sections = secs.filter((_, i) => inFile[i]).map((s) => s.section);
        const decorated = secs.some((s, i) => inFile[i] && s.decorated);
        // An empty last line without a terminator is no line at all: such a file does end with a newline.
        const lastLine = [...prelude, ...sections.flatMap((s) => [s.header, ...s.body])].pop();
        const lineCount = prelude.length + sections.reduce((n, s) => n + 1 + s.body.length, 0);
        const fnl = finalNewline || lastLine === '';
        // A file without any terminator has no style of its own: new lines use LF.
        const style = lineCount > 1 || (lineCount === 1 && fnl) ? eol : '\n';
        const file: GenFile = { bom, eol: style, finalNewline: fnl, prelude, sections, missing: names.filter((_, i) => !inFile[i]) };
        return { file, decorated };
      }),
  )
  .chain(({ file, decorated }) => {
    const pool = [...file.sections.map((s) => s.name), ...file.missing];
    return fc
      .array(fc.tuple(fc.constantFrom(...pool), fc.nat(999)), { minLength: 1, maxLength: 8 })
      .map((picks) => ({ file, decorated, updates: picks.map(([p, g]): ProfileUpdate => ({ profile: p, credentials: creds(p, g) })) }));
  });

export function render(f: GenFile): { whole: string; prelude: string; sections: string[] } {
  const lines = [...f.prelude, ...f.sections.flatMap((s) => [s.header, ...s.body])];
  let whole = lines.map((l) => l + f.eol).join('');
  if (!f.finalNewline && whole) whole = whole.slice(0, -f.eol.length);
  const prelude = f.prelude.map((l) => l + f.eol).join('');
  const sections = f.sections.map((s) => [s.header, ...s.body].map((l) => l + f.eol).join(''));
  const bom = f.bom ? '\uFEFF' : '';
  if (!f.finalNewline && lines.length) {
    if (sections.length) sections[sections.length - 1] = sections[sections.length - 1]!.slice(0, -f.eol.length);
    else return { whole: bom + whole, prelude: prelude.slice(0, -f.eol.length), sections };
  }
  return { whole: bom + whole, prelude, sections };
}

/** Index where a line with exactly `line` as its text starts, searching from `from`; -1 if none. */
export function findLine(text: string, line: string, eol: string, from: number): number {
  for (let i = text.indexOf(eol + line, from); i !== -1; i = text.indexOf(eol + line, i + 1)) {
    const after = i + eol.length + line.length;
    if (after === text.length || text.startsWith(eol, after)) return i + eol.length;
  }
  return -1;
}

export function iniSection(parsed: Record<string, unknown>, name: string): Record<string, unknown> | undefined {
  if (Object.hasOwn(parsed, name)) return parsed[name] as Record<string, unknown>;
  let p: unknown = parsed;
  for (const part of name.split('.')) p = p && typeof p === 'object' ? (p as Record<string, unknown>)[part] : undefined;
  return p as Record<string, unknown> | undefined;
}
