/**
 * What schedule validation reports: every problem at once, each with its path in the file
 * (`profiles.backup.role_arn`), its line:column when it came from the file, a message naming the
 * value and what was expected, and a hint saying how to fix it. ConfigError carries the list.
 */
import { AgentError } from '../errors.js';
import { escapeControls } from '../log/escape-controls.js';

export interface Position {
  line: number;
  column: number;
}

export interface ConfigIssue {
  /** Dotted path in the schedule (`profiles.backup.role_arn`); `""` for the file as a whole. */
  path: string;
  /** 1-based, absent for values that did not come from the file (command-line overrides). */
  line?: number;
  column?: number;
  message: string;
  hint?: string;
}

/** An issue quotes what the file says: at most this much of it, on one line. */
const MAX_ISSUE_TEXT = 1000;

export function issue(path: string, pos: Position | undefined, message: string, hint?: string): ConfigIssue {
  // A quoted value may hold escape sequences or newlines (from the file or a ${VAR}) and be huge.
  const out: ConfigIssue = { path: escapeControls(path, 200), message: escapeControls(message, MAX_ISSUE_TEXT) };
  if (pos) {
    out.line = pos.line;
    out.column = pos.column;
  }
  if (hint) out.hint = escapeControls(hint, MAX_ISSUE_TEXT);
  return out;
}

/** `profiles.backup.role_arn (line 14:15): message — hint` */
export function formatIssue(i: ConfigIssue): string {
  const where = i.line !== undefined ? ` (line ${i.line}:${i.column ?? 1})` : '';
  return `${i.path || 'schedule'}${where}: ${i.message}${i.hint ? ` — ${i.hint}` : ''}`;
}

/** One issue per line, in file order. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return sortIssues(issues).map(formatIssue).join('\n');
}

/** File order (line, column), then the issues without a position; duplicates removed. */
export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  const unique = issues.filter((i) => {
    const k = formatIssue(i);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const key = (i: ConfigIssue) => [i.line ?? Number.MAX_SAFE_INTEGER, i.column ?? 0] as const;
  return unique
    .map((i, n) => ({ i, n }))
    .sort((a, b) => {
      const [la, ca] = key(a.i);
      const [lb, cb] = key(b.i);
      return la - lb || ca - cb || a.n - b.n;
    })
    .map(({ i }) => i);
}

export class ConfigError extends AgentError {
  readonly issues: ConfigIssue[];
  readonly source: string;

  constructor(source: string, issues: readonly ConfigIssue[], options: { cause?: unknown } = {}) {
    const sorted = sortIssues(issues);
    const n = sorted.length;
    super('CONFIG_INVALID', `schedule ${source} has ${n} problem${n === 1 ? '' : 's'}:\n${sorted.map((i) => `  ${formatIssue(i)}`).join('\n')}`, {
      hint: 'fix each problem listed, then run `rolesanywhere-agent validate --config FILE`',
      cause: options.cause,
    });
    this.name = 'ConfigError';
    this.issues = sorted;
    this.source = source;
  }
}
