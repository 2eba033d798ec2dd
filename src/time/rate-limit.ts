/**
 * The agent's CreateSession quota as the schedule states it (`rate_limit:`) and the agent applies
 * it: a token bucket (token-bucket.ts) for the rate and burst, a semaphore (concurrency.ts) for the
 * calls in flight. Declared here, below both the schedule reader and the agent, so both use one type.
 */
export interface RateLimit {
  /** CreateSession calls per second for the whole agent. */
  perSecond: number;
  burst: number;
  /** CreateSession calls in flight at once. */
  concurrency: number;
}
