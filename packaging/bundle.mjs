/**
 * The last step of `npm run build`: bundles the `credential-process` command into dist/src/bundle/.
 * The AWS CLI starts it once per command, and since the settings catalogue a call loads ~35 of the
 * project's modules: node's ES module loader took ~60 of a profiled cache hit's ~96 ms
 * (docs/benchmarks.md, "Fifth pass"). Bundled: 15-27 ms less per call, a hit and a full call alike. Packages stay external (node_modules is shipped as is), and what the command loads
 * lazily (the signer, key parsers, TLS) stays lazy: esbuild puts it in chunks of its own.
 * main.js loads the bundle, never the unbundled command, so every test of the command tests it.
 *   Usage (after tsc): node packaging/bundle.mjs
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const outdir = join(root, 'dist/src/bundle');
rmSync(outdir, { recursive: true, force: true }); // no stale chunk from an earlier build
await build({
  entryPoints: { 'credential-process': join(root, 'dist/src/cli/credential-process.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  legalComments: 'none',
  logLevel: 'warning',
});
