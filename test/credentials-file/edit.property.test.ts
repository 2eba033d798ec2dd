import { expect } from 'chai';
import fc from 'fast-check';
import ini from 'ini';
import { editProfiles, OWN_KEYS, ownValues } from '../../src/credentials-file/edit.js';
import { parseStrict } from '../../src/credentials-file/parse.js';
import { fileArb, findLine, iniSection, render } from './generated-files.js';

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
