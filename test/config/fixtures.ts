/** Schedule text builders shared by the config tests. */
import { ConfigError, formatIssue, parseSchedule, type Schedule, type ScheduleDeps } from '../../src/config/index.js';

export const TA = 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/6f1c3a52-8a7e-4c1d-9a6e-2d4b8f0e1a11';
export const PR = 'arn:aws:rolesanywhere:eu-west-1:111122223333:profile/0b9d2e47-3c5f-4e8a-b1d2-7f6a5c4e3d22';
export const TA_US = 'arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/6f1c3a52-8a7e-4c1d-9a6e-2d4b8f0e1a11';
export const PR_US = 'arn:aws:rolesanywhere:us-east-1:111122223333:profile/0b9d2e47-3c5f-4e8a-b1d2-7f6a5c4e3d22';
export const ROLE = 'arn:aws:iam::111122223333:role/app';

export const HOME = '/home/agent';
export const deps = (extra: Partial<ScheduleDeps> = {}): ScheduleDeps => ({ env: {}, home: HOME, baseDir: '/etc/agent', ...extra });

/** Removes the common indentation so schedules can be written inline and line numbers stay readable. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = raw.replace(/^\n/, '').replace(/\n\s*$/, '\n').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

export function parse(text: string, extra: Partial<ScheduleDeps> = {}): Schedule {
  return parseSchedule(text, 'test.yaml', deps(extra));
}

/** The formatted issues parseSchedule throws, or a failure if it does not throw. */
export function issuesOf(text: string, extra: Partial<ScheduleDeps> = {}): string[] {
  try {
    parse(text, extra);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map(formatIssue);
    throw e;
  }
  throw new Error('expected the schedule to be rejected, but it was accepted');
}
