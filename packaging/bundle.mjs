/**
 * The last step of `npm run build`: bundles the `credential-process` and `run` commands into
 * dist/src/bundle/.
 *
 * `credential-process`: the AWS CLI starts it once per command, and since the settings catalogue a
 * call loads ~35 of the project's modules: node's ES module loader took ~60 of a profiled cache
 * hit's ~96 ms (docs/benchmarks.md, "Fifth pass"). Bundled: 15-27 ms less per call, a hit and a
 * full call alike.
 *
 * Packages stay external (node_modules is shipped as is), and what a command loads lazily (the
 * signer, key parsers, TLS, the listeners) stays lazy: esbuild puts it in chunks of its own.
 *
 * `run`: peak RSS of a one-profile agent. V8 keeps every module's source (for lazy compiling) and a
 * record per module; ~150 modules bundled and minified took the peak from 57.0 to 55.2 MB, 1.40x
 * bare node, the goal (bench/run-rss.ts; whitespace and syntax minified only: 55.4 MB). Identifiers
 * are minified too, so a stack trace names short symbols: the source maps beside the chunks turn it
 * back into the sources' names with `node --enable-source-maps` (not loaded otherwise, no cost).
 *
 * main.js loads these bundles, never the unbundled commands, so every CLI test of them tests them.
 *   Usage (after tsc): node packaging/bundle.mjs
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const outdir = join(root, 'dist/src/bundle');
rmSync(outdir, { recursive: true, force: true }); // no stale chunk from an earlier build
await build({
  entryPoints: { 'credential-process': join(root, 'dist/src/cli/credential-process.js'), run: join(root, 'dist/src/cli/run.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  legalComments: 'none',
  minify: true,
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
});
