/**
 * Walking a map of the schedule: each known key visited once; non-maps, repeated keys and unknown keys
 * reported with a did-you-mean. Shared by the file's top level, the profile layers and their sub-maps.
 */
import { describe, type FieldContext } from './fields.js';
import { issue, type Position } from './issues.js';
import { EXTENSION_PREFIX, KEY_SETS, unknownKeyHint, type KeySetName } from './keys.js';
import { childPath, type RawEntry, type RawNode } from './node.js';


/** Visits a map's known keys once each; reports non-maps, repeated keys and unknown keys. */
export function walkMap(
  node: RawNode,
  path: string,
  set: KeySetName,
  ctx: FieldContext,
  visit: (entry: RawEntry, path: string) => void,
  options: { extensions?: boolean; what?: string } = {},
): boolean {
  if (node.kind !== 'map') {
    ctx.issues.push(issue(path, node.pos, `expected ${options.what ?? 'a map of settings'}, got ${describe(node)}`));
    return false;
  }
  const seen = new Map<string, Position | undefined>();
  for (const entry of node.entries) {
    const p = childPath(path, entry.key);
    if (options.extensions && entry.key.startsWith(EXTENSION_PREFIX)) continue;
    if (seen.has(entry.key)) {
      ctx.issues.push(issue(p, entry.keyPos, `"${entry.key}" is set twice${at(seen.get(entry.key))}`, 'keep one of them'));
      continue;
    }
    seen.set(entry.key, entry.keyPos);
    if (!(KEY_SETS[set] as readonly string[]).includes(entry.key)) {
      ctx.issues.push(issue(p, entry.keyPos, `unknown key "${entry.key}"`, unknownKeyHint(entry.key, set)));
      continue;
    }
    visit(entry, p);
  }
  return true;
}

export function at(pos: Position | undefined): string {
  return pos ? ` (first at line ${pos.line}:${pos.column})` : '';
}

/** An explicit null (`key:` or `key: null`), not the remains of a value that failed to resolve. */
export const isNull = (node: RawNode) => node.kind === 'scalar' && node.value === null && !node.failed;