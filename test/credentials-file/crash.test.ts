import { expect } from 'chai';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseStrict } from '../../src/credentials-file/parse.js';
import { replaceProfiles } from '../../src/credentials-file/replace.js';
import { makeTempDir } from '../helpers/tmp.js';
import { startChild, type Child } from './children.js';
import { compileForNode } from './compile-child.js';
import { creds, generationOf } from './generations.js';

const KILLS = 200;
const PROFILES = ['alpha', 'beta', 'gamma'];
// Foreign blocks, checked byte for byte after every kill. `alpha` sits between them.
const HEAD = '# shared file: static keys above, agent profiles below\n[static]\naws_access_key_id = AKIASTATICEXAMPLE\naws_secret_access_key = static/secret+key=\n\n';
const ALPHA = '[alpha]\nregion = eu-west-1\naws_security_token = STALE\n';
const TAIL = '\n; the next profile is not ours\n[other]\noutput = json\nregion = us-east-2\n';

describe('crash safety (a writer SIGKILLed at random moments)', function () {
  this.timeout(90_000);
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = makeTempDir('ra-cf-crash-')));
  after(() => cleanup());

  it(`leaves, after each of ${KILLS} kills, a strictly valid file with the foreign sections byte-identical and every profile a complete set of one generation`, async () => {
    const script = compileForNode('test/credentials-file/fixtures/writer-child.ts', join(dir, 'build'));
    const work = join(dir, 'aws');
    const file = join(work, 'credentials');
    mkdirSync(work, { mode: 0o700 });
    writeFileSync(file, HEAD + ALPHA + TAIL, { mode: 0o600 });

    const start = (k: number): Child => startChild(script, 'crash', { CF_FILE: file, CF_PROFILES: PROFILES.join(','), CF_GEN_BASE: String(k * 1_000_000) });
    const last = new Map<string, number>();
    let midReplace = 0;
    // Children load ahead of their turn: spawning is the bottleneck, so a few start while one runs.
    const AHEAD = 3;
    const queue: Child[] = [];
    let spawned = 0;
    const refill = () => {
      while (queue.length < AHEAD && spawned < KILLS) queue.push(start(spawned++));
    };
    let cur: Child | undefined;
    const t0 = performance.now();
    try {
      for (let k = 0; k < KILLS; k++) {
        refill();
        cur = queue.shift()!;
        refill();
        cur.send('go');
        await cur.waitFor(() => true, 'its first generation');
        await new Promise((r) => setTimeout(r, Math.random() * 25));
        cur.proc.kill('SIGKILL');
        const { signal } = await cur.exited;
        expect(signal, `child ${k} died by our kill, not on its own (stderr: ${cur.stderr()})`).to.equal('SIGKILL');

        const text = readFileSync(file, 'utf8');
        const parsed = parseStrict(text); // throws, naming the line, if the file is not strictly valid
        expect(text.startsWith(HEAD), `kill ${k}: head block byte-identical`).to.equal(true);
        expect(text.includes(TAIL), `kill ${k}: tail block byte-identical`).to.equal(true);
        expect(text.indexOf('[alpha]'), `kill ${k}: alpha stays between the foreign blocks`).to.equal(HEAD.length);
        for (const p of PROFILES) {
          const gens = generationOf(p, new Map([...(parsed.sections.get(p)?.keys ?? new Map())].map(([key, v]) => [key, v.value])));
          expect(gens.every((g) => g === gens[0] && Number.isInteger(g)), `kill ${k}: ${p} holds one complete generation, got ${gens.join(',')}`).to.equal(true);
          expect(gens[0]!, `kill ${k}: ${p} never goes back to an older generation`).to.be.at.least(last.get(p) ?? 0);
          last.set(p, gens[0]!);
        }
        expect(parsed.sections.get('alpha')!.keys.has('aws_security_token'), 'stale token removed').to.equal(false);
        expect(parsed.sections.get('alpha')!.keys.get('region')?.value).to.equal('eu-west-1');
        if (readdirSync(work).some((n) => n.endsWith('.tmp') || n.endsWith('.lock'))) midReplace++;
      }
    } finally {
      // Whatever failed, no child outlives the test.
      for (const c of [cur, ...queue]) c?.proc.kill('SIGKILL');
    }
    const seconds = (performance.now() - t0) / 1000;

    // The next writer (here, this process) breaks the dead child's lock and removes its leftovers.
    const beforeTidy = readdirSync(work).length;
    await replaceProfiles(file, [{ profile: 'alpha', credentials: creds('alpha', 999_999_999) }]);
    expect(readdirSync(work), `left after a clean replace (there were ${beforeTidy} entries)`).to.deep.equal(['credentials']);
    // Evidence that the kills did land inside replaces, not only between them.
    expect(midReplace, `kills that interrupted a replace (of ${KILLS}, in ${seconds.toFixed(1)} s)`).to.be.greaterThan(KILLS / 20);
  });
});
