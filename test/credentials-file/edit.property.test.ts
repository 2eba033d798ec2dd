import { expect } from 'chai';
import fc from 'fast-check';
import ini from 'ini';
import { editProfiles, OWN_KEYS, ownValues, type ProfileUpdate } from '../../src/credentials-file/edit.js';
import { parseStrict } from '../../src/credentials-file/parse.js';
import { creds } from './helpers.js';

// A generated file, kept as structure so the test knows where every section starts and ends.
interface GenSection {
  name: string;
  header: string;
  body: string[];
}
interface GenFile {
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

const fileArb = fc
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

function render(f: GenFile): { whole: string; prelude: string; sections: string[] } {
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
function findLine(text: string, line: string, eol: string, from: number): number {
  for (let i = text.indexOf(eol + line, from); i !== -1; i = text.indexOf(eol + line, i + 1)) {
    const after = i + eol.length + line.length;
    if (after === text.length || text.startsWith(eol, after)) return i + eol.length;
  }
  return -1;
}

function iniSection(parsed: Record<string, unknown>, name: string): Record<string, unknown> | undefined {
  if (Object.hasOwn(parsed, name)) return parsed[name] as Record<string, unknown>;
  let p: unknown = parsed;
  for (const part of name.split('.')) p = p && typeof p === 'object' ? (p as Record<string, unknown>)[part] : undefined;
  return p as Record<string, unknown> | undefined;
}

describe('editProfiles on generated files (property)', () => {
  it('keeps every byte outside the updated sections, keeps their other lines in order, and reads back the new values with the strict reader and ini', () => {
    // Counted so the test fails if the generator stops producing the cases it claims to cover.
    const seen = { ini: 0, existingTarget: 0, missingTarget: 0, crlf: 0, noFinalNewline: 0, foreignOwnKeys: 0 };
    fc.assert(
      fc.property(fileArb, ({ file, decorated, updates }) => {
        const { whole, prelude, sections } = render(file);
        const result = editProfiles(whole, updates);
        const targets = new Set(updates.map((u) => u.profile));
        if (file.sections.some((s) => targets.has(s.name))) seen.existingTarget++;
        if (file.missing.some((n) => targets.has(n))) seen.missingTarget++;
        if (file.eol === '\r\n') seen.crlf++;
        if (!file.finalNewline) seen.noFinalNewline++;
        if (file.sections.some((s) => !targets.has(s.name) && s.body.some((l) => /^aws_/i.test(l)))) seen.foreignOwnKeys++;
        const latest = new Map(updates.map((u) => [u.profile, ownValues(u)]));

        // 1. Bytes outside the target sections are unchanged, in place.
        const bom = file.bom ? '\uFEFF' : '';
        expect(result.startsWith(bom + prelude), 'BOM and prelude unchanged').to.equal(true);
        let pos = bom.length + prelude.length;
        const appended = [...latest.keys()].filter((p) => !file.sections.some((s) => s.name === p));
        const expectedTail = appended.map((p) => `[${p}]${file.eol}` + OWN_KEYS.map((k) => `${k} = ${latest.get(p)![k]}${file.eol}`).join('')).join('');
        expect(result.endsWith(expectedTail), 'appended sections at the end').to.equal(true);
        const appendStart = result.length - expectedTail.length;
        file.sections.forEach((s, i) => {
          const original = sections[i]!;
          const next = file.sections[i + 1];
          const end = next ? findLine(result, next.header, file.eol, pos) : appendStart;
          if (next) expect(end, `section ${next.name} found after ${s.name}`).to.be.greaterThan(pos);
          const got = result.slice(pos, end);
          if (!targets.has(s.name)) {
            // The last section may gain the file's line ending when sections are appended after it.
            const allowed = !next && appended.length && !file.finalNewline ? original + file.eol : original;
            expect(JSON.stringify(got), `foreign section ${s.name}`).to.equal(JSON.stringify(allowed));
          } else {
            // Header unchanged; every line that is not one of our keys survives, in order.
            const gotLines = got.split(file.eol).filter((l, j, a) => j < a.length - 1 || l !== '');
            expect(gotLines[0], `header of ${s.name}`).to.equal(s.header);
            const ours = (l: string) => /^(aws_access_key_id|aws_secret_access_key|aws_session_token|x_security_token_expires|aws_security_token)\s*[=:]/i.test(l);
            expect(gotLines.filter((l) => !ours(l)), `other lines of ${s.name}`).to.deep.equal([s.header, ...s.body].filter((l) => !ours(l)));
            expect(gotLines.filter(ours), `own lines of ${s.name}`).to.have.length(4);
          }
          pos = end;
        });
        if (!file.sections.length && prelude && !file.finalNewline && appended.length) {
          expect(result.slice(pos, pos + file.eol.length), 'newline between a prelude without one and an appended section').to.equal(file.eol);
          pos += file.eol.length;
        }
        expect(pos, 'sections end where the appended ones start').to.equal(appendStart);

        // 2. The strict reader reads the new values and every other section as before.
        const before = parseStrict(whole);
        const after = parseStrict(result);
        for (const [p, want] of latest) {
          const keys = after.sections.get(p)!.keys;
          for (const k of OWN_KEYS) expect(keys.get(k)?.value, `${p}.${k} (strict)`).to.equal(want[k]);
          expect(keys.has('aws_security_token'), `${p} has no stale token`).to.equal(false);
        }
        for (const [name, s] of before.sections) {
          if (targets.has(name)) continue;
          const a = after.sections.get(name)!;
          expect([...a.keys].map(([k, v]) => [k, v.value]), `section ${name} (strict)`).to.deep.equal([...s.keys].map(([k, v]) => [k, v.value]));
        }

        // 3. ini reads the new values too. It does not know headers with a trailing comment nor a BOM, and
        //    it nests dotted section names into each other, so those files are left to the strict reader.
        const dotted = [...file.sections.map((s) => s.name), ...file.missing].some((n) => n.includes('.'));
        if (!decorated && !dotted) {
          seen.ini++;
          const parsed = ini.parse(result.replace(/^\uFEFF/, ''));
          for (const [p, want] of latest) {
            const s = iniSection(parsed, p);
            for (const k of OWN_KEYS) expect(s?.[k], `${p}.${k} (ini)`).to.equal(want[k]);
          }
        }
      }),
      { numRuns: 400 },
    );
    for (const [what, n] of Object.entries(seen)) expect(n, `generated cases with ${what}`).to.be.greaterThan(40);
  });

  it('is idempotent: applying the same batch twice gives the same text as applying it once', () => {
    fc.assert(
      fc.property(fileArb, ({ file, updates }) => {
        const once = editProfiles(render(file).whole, updates);
        expect(editProfiles(once, updates)).to.equal(once);
      }),
      { numRuns: 150 },
    );
  });
});
