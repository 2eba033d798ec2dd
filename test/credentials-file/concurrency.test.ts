import { expect } from 'chai';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseStrict } from '../../src/credentials-file/parse.js';
import { makeTempDir } from '../helpers/tmp.js';
import { startChild, type Child } from './children.js';
import { compileForNode } from './compile-child.js';
import { generationOf } from './generations.js';

const WRITERS = ['w0', 'w1', 'w2', 'w3'];
const UPDATES = 200;
const FOREIGN_EDITS = 25;
const INITIAL = '# shared\n[foreign]\nbase = 1\n\n[static]\naws_access_key_id = AKIASTATICEXAMPLE\naws_secret_access_key = static/secret+key=\n';

describe('concurrent writers', function () {
  this.timeout(90_000);
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = makeTempDir('ra-cf-concurrent-')));
  after(() => cleanup());

  it(`${WRITERS.length} processes updating their own profile ${UPDATES} times each, while another edits a foreign section without the lock, lose nothing`, async () => {
    const script = compileForNode('test/credentials-file/fixtures/writer-child.ts', join(dir, 'build'));
    const work = join(dir, 'aws');
    mkdirSync(work, { mode: 0o700 });
    const file = join(work, 'credentials');
    writeFileSync(file, INITIAL, { mode: 0o600 });

    const children: Child[] = [];
    try {
      // CF_GAP: the test-only mutex over the last check and the rename (see the fixture's header):
      // that window is rename(2)'s, documented in fs.ts; everything else runs unserialised.
      const gap = join(dir, 'gap');
      const writers = WRITERS.map((p) => startChild(script, 'concurrent', { CF_FILE: file, CF_PROFILE: p, CF_COUNT: String(UPDATES), CF_GAP: gap }));
      const editor = startChild(script, 'foreign', { CF_FILE: file, CF_COUNT: String(FOREIGN_EDITS), CF_GAP: gap });
      children.push(...writers, editor);

      // The editor does not take the lock, so it can overwrite the writers' latest values (that is its
      // bug, not ours); the writers' last generation is therefore written after it has finished.
      await editor.waitFor((l) => l === 'done', 'done', 60_000);
      const ready = await Promise.all(writers.map((w) => w.waitFor((l) => l.startsWith('ready'), 'ready', 60_000)));
      for (const w of writers) w.send('go');
      await Promise.all(writers.map((w) => w.waitFor((l) => l === 'done', 'done', 60_000)));
      const codes = await Promise.all(children.map((c) => c.exited));
      expect(codes.map((c) => c.code), `exit codes (stderr: ${children.map((c) => c.stderr()).join(' | ')})`).to.deep.equal(children.map(() => 0));

      const text = readFileSync(file, 'utf8');
      const parsed = parseStrict(text);
      for (const p of WRITERS) {
        const keys = new Map([...(parsed.sections.get(p)?.keys ?? new Map())].map(([k, v]) => [k, v.value]));
        expect(generationOf(p, keys), `${p} holds its last generation`).to.deep.equal([UPDATES, UPDATES, UPDATES, UPDATES]);
      }
      const foreign = parsed.sections.get('foreign')!.keys;
      const notes = [...foreign.keys()].filter((k) => k.startsWith('note_'));
      const missing = Array.from({ length: FOREIGN_EDITS }, (_, i) => `note_${i + 1}`).filter((n) => !foreign.has(n));
      expect(missing, `foreign edits lost (re-read rounds taken by the writers: ${ready.map((r) => r.split(' ')[1]).join(', ')})`).to.deep.equal([]);
      expect(notes).to.have.length(FOREIGN_EDITS);
      expect(foreign.get('base')?.value).to.equal('1');
      expect(text).to.include('[static]\naws_access_key_id = AKIASTATICEXAMPLE\naws_secret_access_key = static/secret+key=\n');
      expect(readdirSync(work), 'no temp or lock file left').to.deep.equal(['credentials']);
    } finally {
      for (const c of children) c.proc.kill('SIGKILL');
    }
  });
});
