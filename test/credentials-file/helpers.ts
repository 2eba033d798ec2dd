/** Shared by the credentials-file tests: credential sets that encode a generation, error matchers. */
import { expect } from 'chai';
import { AgentError, type ErrorCode } from '../../src/errors.js';

export { creds, expiryText, ownLines, generationOf } from './generations.js';

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
