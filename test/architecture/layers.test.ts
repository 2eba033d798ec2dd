/**
 * The layer order of docs/architecture.md ("## Layers") against the imports of every module of
 * src/: no import goes to a higher row or to a peer in the same row, and every folder and top-level
 * file of src/ has a row. The order is read from the document, so the document is the one place
 * to change it. Imports are found by TypeScript's own pre-processor (static imports, `export …
 * from`, `import()` and `import type`), so comments and strings never count.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../cli/built-cli.js';

const SRC = join(ROOT, 'src');
const DOC = 'docs/architecture.md';

/** The unit a src/ path belongs to: its top folder (`agent/`) or, at the top, the file (`main.ts`). */
function unitOf(pathInSrc: string): string {
  const parts = pathInSrc.split(sep);
  return parts.length > 1 ? `${parts[0]}/` : parts[0]!;
}

/** Rows of the "## Layers" table, lowest first: unit → row number (1-based). */
function readLayers(markdown: string): Map<string, number> {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === '## Layers');
  if (start < 0) throw new Error(`${DOC} has no "## Layers" section`);
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l));
  const rows = lines
    .slice(start + 1, end < 0 ? undefined : end)
    .filter((l) => l.startsWith('|') && !/^\|[\s:|-]+\|$/.test(l))
    .slice(1); // the header row
  const order = new Map<string, number>();
  rows.forEach((row, i) => {
    const cell = row.split('|')[2] ?? '';
    for (const m of cell.matchAll(/`([^`]+)`/g)) {
      const unit = m[1]!;
      if (order.has(unit)) throw new Error(`${DOC}: ${unit} is in two rows of the layer table`);
      order.set(unit, i + 1);
    }
  });
  if (order.size === 0) throw new Error(`${DOC}: the "## Layers" table names no folder`);
  return order;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

interface Edge {
  file: string;
  specifier: string;
  from: string;
  to: string;
}

/** Every relative import of every module of src/ that leaves its own unit. */
function crossUnitImports(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: specifier } of info.importedFiles) {
      if (!specifier.startsWith('.')) continue;
      const target = relative(SRC, resolve(dirname(file), specifier));
      if (target.startsWith('..')) continue;
      const from = unitOf(relative(SRC, file));
      const to = unitOf(target);
      if (from !== to) edges.push({ file: relative(ROOT, file), specifier, from, to });
    }
  }
  return edges;
}

/** The imports that break the order, each as a sentence naming the file, the import and the fix. */
function violations(edges: Edge[], order: Map<string, number>): string[] {
  return edges
    .filter((e) => order.has(e.from) && order.has(e.to) && order.get(e.to)! >= order.get(e.from)!)
    .map((e) => {
      const [a, b] = [order.get(e.from)!, order.get(e.to)!];
      const why = a === b ? `a peer in the same row ${a}` : `row ${b}, above its own row ${a}`;
      return `${e.file} imports '${e.specifier}' (${e.to}, ${why}) — move the shared code down, or fix the order in ${DOC}`;
    });
}

describe('layers (docs/architecture.md "## Layers" against the imports of src/)', () => {
  const order = readLayers(readFileSync(join(ROOT, DOC), 'utf8'));

  it('finds the imports it checks: the TypeScript pre-processor sees static, type-only, re-exported and dynamic ones', () => {
    const seen = ts
      .preProcessFile(
        "import a from './a.js';\nimport type { B } from '../b.js';\nexport { c } from './c.js';\nconst d = await import('./d.js');\n// import e from './e.js'\nconst s = \"import f from './f.js'\";\n",
        true,
        true,
      )
      .importedFiles.map((f) => f.fileName);
    expect(seen, 'specifiers found').to.deep.equal(['./a.js', '../b.js', './c.js', './d.js']);
    expect(crossUnitImports().length, 'cross-folder imports found in src/').to.be.greaterThan(100);
  });

  it('reads rows from the table and flags an upward and a same-row import, not a downward one', () => {
    const sample = readLayers('## Layers\n\n| row | units | why |\n|---|---|---|\n| 1 | `errors.ts`, `log/` | x |\n| 2 | `agent/` | y |\n\n## Next\n| 9 | `cli/` | z |\n');
    expect([...sample], 'rows read').to.deep.equal([
      ['errors.ts', 1],
      ['log/', 1],
      ['agent/', 2],
    ]);
    const edge = (from: string, to: string, specifier: string): Edge => ({ file: `src/${from}x.ts`, specifier, from, to });
    const found = violations([edge('agent/', 'log/', '../log/y.js'), edge('log/', 'agent/', '../agent/y.js'), edge('log/', 'errors.ts', '../errors.js')], sample);
    expect(found, 'violations').to.deep.equal([
      `src/log/x.ts imports '../agent/y.js' (agent/, row 2, above its own row 1) — move the shared code down, or fix the order in ${DOC}`,
      `src/log/x.ts imports '../errors.js' (errors.ts, a peer in the same row 1) — move the shared code down, or fix the order in ${DOC}`,
    ]);
  });

  it('gives every folder and top-level file of src/ a row', () => {
    const units = [...new Set(sourceFiles(SRC).map((f) => unitOf(relative(SRC, f))))].sort();
    const missing = units.filter((u) => !order.has(u));
    expect(
      missing.map((u) => `src/${u} has no layer: add it to the layer list in ${DOC} (## Layers), in the row above everything it imports`),
      'units without a row',
    ).to.deep.equal([]);
  });

  it('has no import that goes up a row or across to a peer in the same row', () => {
    expect(violations(crossUnitImports(), order), 'imports against the layer order').to.deep.equal([]);
  });
});
