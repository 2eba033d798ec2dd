/**
 * Profile layers: what one layer (built-in, an environment variable, `defaults:`, a profile, the
 * command line) sets, read through the catalogue's readers, and the merge of layers, highest last.
 *
 * - `key: null` in a layer unsets what a lower layer set (`intermediates: null`);
 * - a layer that sets one of private_key_password_file/_env (or pkcs11_pin_file/_env) replaces the
 *   other one from lower layers; setting both in one layer is an error;
 * - an environment variable of the catalogue (AWS_CA_BUNDLE) counts only when no layer above sets its key.
 */
import type { FieldContext } from '../config/fields.js';
import { issue, type Position } from '../config/issues.js';
import { childPath, jsToTree, type RawNode } from '../config/node.js';
import { isNull, walkMap } from '../config/walk.js';
import { ENV_SETTINGS, type ProfileKey } from './catalogue.js';
import { PROFILE_READERS } from './readers.js';

export const EXCLUSIVE: [ProfileKey, ProfileKey, string][] = [
  ['private_key_password_file', 'private_key_password_env', 'the key password comes from a file or from an environment variable'],
  ['pkcs11_pin_file', 'pkcs11_pin_env', 'the PIN comes from a file or from an environment variable'],
];

export type Layer = 'builtin' | 'env' | 'defaults' | 'profile' | 'override';
export const RANK: Record<Layer, number> = { builtin: 0, env: 1, defaults: 2, profile: 3, override: 4 };

export interface Setting {
  state: 'set' | 'unset' | 'invalid';
  value?: unknown;
  layer: Layer;
  pos?: Position;
  /** The environment variable an `env` layer's value came from. */
  variable?: string;
}
export type ProfileLayer = Partial<Record<ProfileKey, Setting>>;

/** The keys one layer sets; undefined when the layer is not a map at all. */
export function readProfileLayer(node: RawNode, path: string, layer: Layer, ctx: FieldContext): ProfileLayer | undefined {
  const out: ProfileLayer = {};
  if (isNull(node)) return out;
  const isMap = walkMap(node, path, 'profile', ctx, (entry, p) => {
    const key = entry.key as ProfileKey;
    const pos = entry.value.pos ?? entry.keyPos;
    if (isNull(entry.value)) {
      out[key] = { state: 'unset', layer, pos };
      return;
    }
    const value = PROFILE_READERS[key](entry.value, p, ctx);
    out[key] = value === undefined ? { state: 'invalid', layer, pos } : { state: 'set', value, layer, pos };
  }, { what: 'a map of profile settings' });
  if (!isMap) return undefined;
  for (const [a, b, why] of EXCLUSIVE) {
    const sa = out[a];
    const sb = out[b];
    if (sa?.state === 'set' && sb?.state === 'set') {
      const second = comparePos(sa.pos, sb.pos) > 0 ? a : b;
      ctx.issues.push(issue(childPath(path, second), out[second]!.pos, `${a} and ${b} are exclusive`, `keep one: ${why}`));
      out[second] = { ...out[second]!, state: 'invalid' };
    }
  }
  return out;
}

function comparePos(a: Position | undefined, b: Position | undefined): number {
  if (!a || !b) return 0;
  return a.line - b.line || a.column - b.column;
}

export function mergeLayers(layers: ProfileLayer[]): ProfileLayer {
  const out: ProfileLayer = {};
  for (const layer of layers) {
    for (const key of Object.keys(layer) as ProfileKey[]) {
      for (const [a, b] of EXCLUSIVE) {
        if (key === a && !(b in layer)) delete out[b];
        if (key === b && !(a in layer)) delete out[a];
      }
      out[key] = layer[key];
    }
  }
  return out;
}

/**
 * The catalogue's environment variables as the lowest layer but the built-in one. A relative path in
 * one is taken as given (the caller's working directory), as on the command line.
 */
export function readEnvLayer(env: Readonly<Record<string, string | undefined>>, ctx: FieldContext): ProfileLayer {
  const out: ProfileLayer = {};
  const envCtx: FieldContext = { issues: ctx.issues, home: ctx.home };
  for (const { key, name } of ENV_SETTINGS) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    const value = PROFILE_READERS[key](jsToTree(text), name, envCtx);
    out[key] = value === undefined ? { state: 'invalid', layer: 'env', variable: name } : { state: 'set', value, layer: 'env', variable: name };
  }
  return out;
}
