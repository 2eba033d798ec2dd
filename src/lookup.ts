/**
 * Lookups by a key that came from input (a schedule key, a flag, a URI attribute, a partition, a
 * variable name): an ordinary object answers "constructor", "toString" or "__proto__" from its
 * prototype, which printed `unknown key "constructor" — function Object() …` and read a function
 * as an environment variable. Tables keyed by input are built with `table()` (no prototype), and
 * variables are read with `envVar()` (own string properties only).
 */

/** A constant lookup table without a prototype: only the keys written here are found. */
export function table<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}

/** The variable `name` of `env` when the environment itself holds it as text; else undefined. */
export function envVar(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  if (!Object.hasOwn(env, name)) return undefined;
  const v = env[name];
  return typeof v === 'string' ? v : undefined;
}
