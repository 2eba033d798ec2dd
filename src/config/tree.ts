/**
 * The schedule as a small tree of maps, sequences and scalars, each with its line:column, whether
 * it came from the YAML file or from the caller's overrides. `${ENV}` interpolation happens here,
 * on string values only, so the validator sees final values and still knows where they were
 * written. Duplicate keys are kept (the YAML parser's own duplicate check is off) so the validator
 * can say which section of the credentials file two entries would both write.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Node } from 'yaml';
import { interpolate } from './interpolate.js';
import { issue, type ConfigIssue, type Position } from './issues.js';

export { childPath, jsToTree, type RawEntry, type RawMap, type RawNode, type RawScalar, type RawSeq } from './node.js';
import { childPath, type RawEntry, type RawNode } from './node.js';

const MAX_DEPTH = 32;
/**
 * Values that aliases may add, all aliases together. A 5,000-profile schedule naming a small
 * anchor in each profile stays far below; nine nested aliases of nine (460 bytes) would expand to
 * 387 million values, which froze `validate` and a reloading agent for minutes. The YAML library's
 * own maxAliasCount guards only its toJS(), which this reader does not use.
 */
export const MAX_ALIAS_EXPANSION = 100_000;

/** Parses YAML text; syntax errors go to `issues` and yield undefined. */
export function yamlToTree(text: string, env: Readonly<Record<string, string | undefined>>, issues: ConfigIssue[]): RawNode | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const at = (offset: number | undefined): Position | undefined => {
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  for (const e of doc.errors) {
    if (e.code === 'MULTIPLE_DOCS') issues.push(issue('', at(e.pos[0]), 'the schedule must be a single YAML document', 'remove the --- separator and what follows, or merge the documents'));
    else issues.push(issue('', at(e.pos[0]), `YAML syntax: ${e.message.replace(/\s+/g, ' ').trim()}`));
  }
  if (doc.errors.length > 0) return undefined;

  // Each alias's target, found in one pass: the YAML library's Alias.resolve() walks the whole
  // document per alias, which made 1,000 profiles naming one anchor take 16 s to read.
  const targets = new Map<Alias, Node>();
  const anchors = new Map<string, Node>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target) targets.set(node, target);
      } else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  // Values produced under an alias so far; past the cap every further value is skipped unread.
  let expanded = 0;
  let bomb = false;
  const convert = (node: unknown, path: string, depth: number, fallback?: Position, aliased = false): RawNode => {
    const pos = at((node as Node | null)?.range?.[0]) ?? fallback;
    if (aliased && ++expanded > MAX_ALIAS_EXPANSION && !bomb) {
      bomb = true;
      issues.push(
        issue(
          path,
          pos,
          `aliases (*name) expand to more than ${MAX_ALIAS_EXPANSION} values — refused as a YAML alias bomb`,
          'refer to each anchor a few times only, or write the values out',
        ),
      );
    }
    if (bomb) return { kind: 'scalar', value: null, pos, coercible: false, failed: true };
    if (depth > MAX_DEPTH) {
      issues.push(issue(path, pos, 'nested too deeply (or an alias refers to its own parent)'));
      return { kind: 'scalar', value: null, pos, coercible: false, failed: true };
    }
    if (isAlias(node)) {
      const target = targets.get(node);
      if (!target) {
        issues.push(issue(path, pos, `the alias *${node.source} refers to no anchor`, 'define the anchor (&name) before the alias, e.g. under an x- key'));
        return { kind: 'scalar', value: null, pos, coercible: false, failed: true };
      }
      return convert(target, path, depth + 1, undefined, true);
    }
    if (isMap(node)) {
      const entries: RawEntry[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as Node | null;
        const keyPos = at(keyNode?.range?.[0]) ?? pos;
        let key: string;
        if (keyNode === null || keyNode === undefined) key = '';
        else if (isScalar(keyNode)) key = keyNode.value === null ? '' : String(keyNode.value);
        else {
          issues.push(issue(path, keyPos, 'a key must be plain text, not a list or a map'));
          continue;
        }
        entries.push({ key, keyPos, value: convert(pair.value, childPath(path, key), depth + 1, keyPos, aliased) });
      }
      return { kind: 'map', entries, pos };
    }
    if (isSeq(node)) return { kind: 'seq', items: node.items.map((item, i) => convert(item, `${path}[${i}]`, depth + 1, undefined, aliased)), pos };
    if (isScalar(node)) {
      if (typeof node.value !== 'string') return { kind: 'scalar', value: node.value, pos, coercible: false };
      const result = interpolate(node.value, env);
      for (const err of result.errors) issues.push(issue(path, pos, err));
      if (result.missing.length > 0) {
        const names = result.missing.map((n) => `\${${n}}`).join(', ');
        issues.push(
          issue(
            path,
            pos,
            `${names} ${result.missing.length === 1 ? 'is' : 'are'} not set in the environment`,
            `set ${result.missing.join(', ')} for the agent, or give a default: \${${result.missing[0]}:-value}`,
          ),
        );
      }
      const failed = result.errors.length > 0 || result.missing.length > 0;
      return { kind: 'scalar', value: result.value, pos, coercible: result.replaced, ...(failed && { failed }) };
    }
    // an empty value (`key:`) parses as null
    return { kind: 'scalar', value: null, pos, coercible: false };
  };

  return convert(doc.contents, '', 0);
}
