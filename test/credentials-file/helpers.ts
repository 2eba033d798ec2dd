/** Shared by the credentials-file tests: credential sets that encode a generation, error matchers. */
import { expect } from 'chai';
import type { Credentials } from '../../src/credentials.js';
import { AgentError, type ErrorCode } from '../../src/errors.js';

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

export function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  expect.fail('expected an error, got none');
}

export async function catchAsync(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  expect.fail('expected a rejection, got a result');
}

/** Asserts an AgentError with `code` whose message holds every fragment; returns it. */
export function expectAgentError(e: unknown, code: ErrorCode, ...fragments: string[]): AgentError {
  expect(e, `expected an AgentError, got ${String(e)}`).to.be.instanceOf(AgentError);
  const err = e as AgentError;
  expect(err.code, `code of "${err.message}"`).to.equal(code);
  for (const f of fragments) expect(err.message, 'message').to.include(f);
  return err;
}
