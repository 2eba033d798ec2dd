/**
 * Not a test: what importing the library costs a Node program, beside importing the SDK's own
 * `fromIni` (@aws-sdk/credential-provider-ini), alternated in one run, each in a fresh process.
 * Also the first call's extra module loading (signer, key parsers, HTTPS client), which the import
 * defers. Run after a build:  node --import tsx bench/library-import.ts [N]
 */
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.argv[2] ?? 21);

function timeImport(script: string): number {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  return Number(out.trim().split('\n').at(-1));
}

const SCRIPTS = {
  fromRolesAnywhere: `const t = performance.now(); const { fromRolesAnywhere } = await import('rolesanywhere-agent'); console.log(performance.now() - t);`,
  fromIni: `const t = performance.now(); const { fromIni } = await import('@aws-sdk/credential-provider-ini'); console.log(performance.now() - t);`,
  // What the first call loads on top (no request is made: the module graph only).
  firstCallModules: `const t = performance.now(); await import('rolesanywhere-agent'); await import('./dist/src/library/session.js'); console.log(performance.now() - t);`,
};

const samples: Record<string, number[]> = { fromRolesAnywhere: [], fromIni: [], firstCallModules: [] };
for (let i = 0; i < N; i++) {
  for (const [name, script] of Object.entries(SCRIPTS)) samples[name]!.push(timeImport(script));
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
console.log(`| measure (median of ${N}, alternated, fresh process each) | ms |`);
console.log('|---|---|');
console.log(`| import { fromRolesAnywhere } from 'rolesanywhere-agent' | ${m.fromRolesAnywhere!.toFixed(1)} |`);
console.log(`| import { fromIni } from '@aws-sdk/credential-provider-ini' | ${m.fromIni!.toFixed(1)} |`);
console.log(`| ratio (goal ≤ 1.3×) | ${(m.fromRolesAnywhere! / m.fromIni!).toFixed(2)}× |`);
console.log(`| import plus the modules the first call loads (signer, parsers, HTTPS client) | ${m.firstCallModules!.toFixed(1)} |`);
