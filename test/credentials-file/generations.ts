/**
 * Credential sets that encode a profile and a generation in every value, so a reader can tell a
 * complete set from a mix. Free of test-framework imports: the child processes use it too.
 */
import type { Credentials } from '../../src/credentials.js';

/**
 * A full credential set whose every value names the profile and the generation, so a reader can tell
 * a complete set from a mix. The secret and token hold '/', '+' and '=' like real ones.
 */
export function creds(profile: string, gen: number): Credentials {
  return {
    accessKeyId: `ASIA${profile.toUpperCase().replace(/[^A-Z0-9]/g, 'X')}G${gen}`,
    secretAccessKey: `sec/${profile}+g${gen}=`,
    sessionToken: `IQoJb3JpZ2luX2VjE/+${profile}+g${gen}==`,
    expiration: new Date(Date.UTC(2026, 10, 22, 1, 0, 0) + gen * 1000),
  };
}

export function expiryText(gen: number): string {
  return new Date(Date.UTC(2026, 10, 22, 1, 0, 0) + gen * 1000).toISOString().replace('.000Z', 'Z');
}

/** The four lines our edit writes for creds(profile, gen), with `eol` after each. */
export function ownLines(profile: string, gen: number, eol = '\n'): string {
  const c = creds(profile, gen);
  return (
    `aws_access_key_id = ${c.accessKeyId}${eol}` +
    `aws_secret_access_key = ${c.secretAccessKey}${eol}` +
    `aws_session_token = ${c.sessionToken}${eol}` +
    `x_security_token_expires = ${expiryText(gen)}${eol}`
  );
}

/**
 * The generation each of the four values of a profile carries (NaN where a value does not parse);
 * a complete set has four equal numbers.
 */
export function generationOf(profile: string, keys: ReadonlyMap<string, string> | undefined): number[] {
  const c0 = creds(profile, 0);
  const akidPrefix = c0.accessKeyId.slice(0, -1);
  const num = (re: RegExp, v: string | undefined) => {
    const m = v === undefined ? null : re.exec(v);
    return m ? Number(m[1]) : NaN;
  };
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const expires = keys?.get('x_security_token_expires');
  return [
    num(new RegExp(`^${esc(akidPrefix)}(\\d+)$`), keys?.get('aws_access_key_id')),
    num(new RegExp(`^${esc(`sec/${profile}+g`)}(\\d+)=$`), keys?.get('aws_secret_access_key')),
    num(new RegExp(`^${esc(`IQoJb3JpZ2luX2VjE/+${profile}+g`)}(\\d+)==$`), keys?.get('aws_session_token')),
    expires === undefined ? NaN : (Date.parse(expires) - Date.UTC(2026, 10, 22, 1, 0, 0)) / 1000,
  ];
}
