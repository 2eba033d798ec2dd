/**
 * The one rule for a profile's name. It lives here because the credentials file's readers are why
 * it exists: a name is a section header, `[name]`, and botocore, the AWS CLI and the AWS SDK for
 * JavaScript must each read it back as the same profile. The schedule, the writer, `update
 * --profile`, `once --profile` and `import` all ask this function, so a name one of them accepts
 * is never refused by another later.
 */
import { DEFAULT_SECTION } from './parse.js';

/** Section names every reader of the credentials file handles alike (also the JSON Schema's propertyNames). */
export const PROFILE_NAME_PATTERN = /^[A-Za-z0-9_.@+-]{1,64}$/;

/** Names the pattern allows but no profile may have (the JSON Schema's propertyNames.not). */
export const RESERVED_PROFILE_NAMES = [DEFAULT_SECTION, '__proto__'] as const;

export const DEFAULT_SECTION_HINT = 'choose another name, such as "default" (lower case), which is the profile the AWS tools use when none is named';

export interface ProfileNameProblem {
  /** Which part of the rule: callers that word their own message branch on this, never on the text. */
  kind: 'characters' | 'default-section' | 'reserved';
  /** Starts with the name in quotes, or "the name" when it cannot be shown (control characters). */
  message: string;
  hint: string;
}

/** The name as it may appear in a message: quoted when printable, else not shown. */
function shown(name: string): string {
  return /^[\x20-\x7e]{1,200}$/.test(name) ? `"${name}"` : 'the name';
}

/** Why `name` cannot be a profile, or undefined when it can. */
export function profileNameProblem(name: string): ProfileNameProblem | undefined {
  if (!PROFILE_NAME_PATTERN.test(name)) {
    return { kind: 'characters', message: `${shown(name)} cannot be a section name in the credentials file`, hint: '1 to 64 characters of letters, digits and _ . @ + -' };
  }
  if (name === DEFAULT_SECTION) {
    return {
      kind: 'default-section',
      message: '"DEFAULT" cannot be a profile: botocore and the AWS CLI read [DEFAULT] as defaults for every other profile, never as a profile of its own',
      hint: DEFAULT_SECTION_HINT,
    };
  }
  if (name === '__proto__') {
    return {
      kind: 'reserved',
      message: '"__proto__" cannot be a profile: the AWS SDK for JavaScript refuses a whole credentials file that has a [__proto__] section',
      hint: 'choose another name',
    };
  }
  return undefined;
}
