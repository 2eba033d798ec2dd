/**
 * Child processes for the crash and concurrency tests are started hundreds of times; under
 * `node --import tsx` each start costs about 0.3 s here, as plain JavaScript about 0.1 s. So the
 * fixture and the sources it imports are transpiled once per run (TypeScript's transpileModule: no
 * type check, the tree is type-checked by tsc anyway) into a temp dir that mirrors the repository.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RELATIVE_IMPORT = /(?:from\s+|import\s+|import\()['"](\.{1,2}\/[^'"]+)['"]/g;

/** Transpiles `entry` (a path relative to the repository) and everything it imports relatively; returns the entry's .js path. */
export function compileForNode(entry: string, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
  const done = new Set<string>();
  const todo = [resolve(ROOT, entry)];
  while (todo.length) {
    const file = todo.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(file, 'utf8');
    const out = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
    }).outputText;
    const target = join(outDir, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out);
    // Only imports that survive transpiling matter (type-only ones are gone).
    for (const m of out.matchAll(RELATIVE_IMPORT)) todo.push(resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
  }
  return join(outDir, relative(ROOT, entry)).replace(/\.ts$/, '.js');
}
