/**
 * The schedule's value tree (maps, sequences, scalars with their line:column), without the YAML
 * parser: flags and plain objects become trees here, so the profile readers load no `yaml`.
 */
import type { Position } from './issues.js';

export interface RawScalar {
  kind: 'scalar';
  value: unknown;
  pos?: Position;
  /**
   * The value is text from a `${…}` replacement or a command-line flag, so "true" or "3600" may
   * stand for a boolean or a number. Text written in the file as such ("true" in quotes) may not.
   */
  coercible: boolean;
  /** Interpolation or an alias failed and was reported; readers skip the value rather than report it again. */
  failed?: boolean;
}
export interface RawEntry {
  key: string;
  keyPos?: Position;
  value: RawNode;
}
export interface RawMap {
  kind: 'map';
  entries: RawEntry[];
  pos?: Position;
}
export interface RawSeq {
  kind: 'seq';
  items: RawNode[];
  pos?: Position;
}
export type RawNode = RawScalar | RawMap | RawSeq;

/** `parent.key`, or `parent["odd key"]` when the key would not read back as one path segment. */
export function childPath(parent: string, key: string): string {
  if (/^[A-Za-z0-9_@+-]+$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** Plain JS values (the caller's overrides, flag text or typed) as a tree without positions; no interpolation. */
export function jsToTree(value: unknown): RawNode {
  if (Array.isArray(value)) return { kind: 'seq', items: value.map(jsToTree) };
  if (value !== null && typeof value === 'object') {
    return { kind: 'map', entries: Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).map(([key, v]) => ({ key, value: jsToTree(v) })) };
  }
  return { kind: 'scalar', value: value ?? null, coercible: typeof value === 'string' };
}
