/**
 * Hostile input shapes shared by the tests of test/hostile (and its corpus): generated here, at
 * test time, rather than kept as files.
 */

/** The classic "billion laughs" shape in YAML; `prefix` lines come first (e.g. a valid schedule). */
export function aliasBomb(prefix = ''): string {
  const names = 'abcdefghi'.split('');
  const lines = [`x-${names[0]}: &${names[0]} [lol, lol, lol, lol, lol, lol, lol, lol, lol]`];
  for (let i = 1; i < names.length; i++) lines.push(`x-${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(', ')}]`);
  return `${prefix}${lines.join('\n')}\nprofiles: *i\n`;
}

/** An error message a hostile service might send: escape sequences, a forged log line, 500 KB. */
export const HOSTILE_MESSAGE = `Access denied\u001b[2J\u001b[H\n{"level":"info","message":"forged"}\r\n` + 'x'.repeat(500_000);

/** Names an ordinary object answers from Object.prototype. */
export const PROTOTYPE_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
