/**
 * V8's optimising compiler for `run` (src/cli/compiler.ts): main.ts starts the command with it off,
 * and only a schedule large enough (or credential endpoints) turns it on. Checked in a child node
 * started as main.ts leaves `run` (--no-turbofan), asking V8 itself whether a function it was told
 * to optimise got optimised.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { OPTIMISE_FROM_PROFILES } from '../../src/cli/compiler.js';
import { ROOT, ensureBuilt, runChild } from './built-cli.js';

/** Prints, as JSON, whether V8 optimises a fresh function after each step. */
const PROBE = `
const compiler = await import(process.argv[2]);
const optimised = () => {
  const hot = new Function('x', 'return x * 2 + 1;');
  %PrepareFunctionForOptimization(hot);
  hot(1);
  hot(2);
  %OptimizeFunctionOnNextCall(hot);
  hot(3);
  return (%GetOptimizationStatus(hot) & 16) !== 0;
};
const steps = JSON.parse(process.argv[3]);
const out = [{ step: 'start', on: false, optimised: optimised() }];
for (const step of steps) {
  const on = step === 'endpoints' ? (compiler.optimiseForEndpoints(), true) : compiler.optimiseForSchedule(step);
  out.push({ step, on, optimised: optimised() });
}
console.log(JSON.stringify(out));
`;

describe('the optimising compiler of run (cli/compiler.ts)', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'ra-compiler-'));
    writeFileSync(join(dir, 'probe.mjs'), PROBE);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const probe = async (steps: Array<number | 'endpoints'>) => {
    const module = pathToFileURL(join(ROOT, 'dist', 'src', 'cli', 'compiler.js')).href;
    const r = await runChild(process.execPath, ['--allow-natives-syntax', '--no-turbofan', join(dir, 'probe.mjs'), module, JSON.stringify(steps)], { PATH: process.env['PATH'] });
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as Array<{ step: number | 'endpoints' | 'start'; on: boolean; optimised: boolean }>;
  };

  it('stays off for a schedule smaller than OPTIMISE_FROM_PROFILES, and comes on at that size for good', async () => {
    const small = OPTIMISE_FROM_PROFILES - 1;
    expect(await probe([1, small, OPTIMISE_FROM_PROFILES, 1])).to.deep.equal([
      { step: 'start', on: false, optimised: false },
      { step: 1, on: false, optimised: false },
      { step: small, on: false, optimised: false },
      { step: OPTIMISE_FROM_PROFILES, on: true, optimised: true },
      // A reload to a smaller schedule leaves it on: what is compiled stays useful.
      { step: 1, on: true, optimised: true },
    ]);
  });

  it('comes on for credential endpoints whatever the schedule size', async () => {
    expect(await probe([1, 'endpoints'])).to.deep.equal([
      { step: 'start', on: false, optimised: false },
      { step: 1, on: false, optimised: false },
      { step: 'endpoints', on: true, optimised: true },
    ]);
  });
});
