/**
 * Text from outside (a service's error message, a reply field) made safe for one line of a
 * terminal or a log: control characters — escape sequences, carriage returns, line feeds, and the
 * Unicode line separators — become visible `\u001b`-style escapes, so a reply cannot clear the
 * screen or forge a log line; and text longer than `max` is cut, saying how long it was.
 */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

export function escapeControls(text: string, max = Infinity): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  const escaped = cut.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return cut === text ? escaped : `${escaped}… (cut: ${text.length} characters in all)`;
}
