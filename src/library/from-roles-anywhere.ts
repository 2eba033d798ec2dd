/**
 * `fromRolesAnywhere`: an AWS SDK for JavaScript v3 credential provider backed by IAM Roles
 * Anywhere CreateSession, with no agent and no file. Importing it loads almost nothing: the
 * signer, key parsers, schedule readers and HTTPS transport load on the first call (see session.ts).
 *
 * Memoized like the SDK's own providers: concurrent calls share one request; credentials are reused
 * until less than `refresh.beforeExpiry` (default 5 min) remains; `forceRefresh` always makes a new
 * request. Errors are AgentErrors (`code`, `retryable`, `hint`) with `tryNextLink: false`, which
 * the SDK's credential chains read as "this provider was configured and failed: stop here".
 */
import { AgentError } from '../errors.js';
import { systemClock, type Clock } from '../time/clock.js';
import type { FromRolesAnywhereOptions } from './options.js';
import type { LibrarySession, SessionDeps } from './session.js';

/** What the SDK's `AwsCredentialIdentity` holds. */
export interface RolesAnywhereCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  /** The role's account, from its ARN. */
  accountId?: string;
}

/** The SDK's `AwsCredentialIdentityProvider`, plus `close()` for a program that wants its sockets and token sessions back. */
export interface RolesAnywhereProvider {
  (props?: { forceRefresh?: boolean }): Promise<RolesAnywhereCredentials>;
  /** Releases the keep-alive connections and any PKCS#11 session; the next call opens them again. */
  close(): Promise<void>;
}

/** For tests: a clock and a transport at the edges. */
export interface ProviderInternals {
  clock?: Clock;
  transport?: SessionDeps['transport'];
}

/** An error the SDK's provider chain stops at (`tryNextLink: false`), keeping the package's code, retryable and hint. */
function forSdk(e: unknown): AgentError {
  // By shape, not instanceof: a loader that gives the lazily imported half its own module instances
  // (mocha under tsx does) would otherwise turn every typed error into INTERNAL.
  const typed = e instanceof Error && typeof (e as AgentError).code === 'string' && typeof (e as AgentError).retryable === 'boolean';
  const error = typed ? (e as AgentError) : new AgentError('INTERNAL', `fromRolesAnywhere: ${String(e)}`, { cause: e });
  Object.defineProperty(error, 'tryNextLink', { value: false, enumerable: false });
  return error;
}

function accountOf(roleArn: unknown): string | undefined {
  return typeof roleArn === 'string' ? /^arn:[^:]+:iam::(\d{12}):/.exec(roleArn)?.[1] : undefined;
}

/** Credentials with less than this left are not handed out after a failed refresh. */
const STILL_USABLE_MS = 60_000;

export function fromRolesAnywhere(options: FromRolesAnywhereOptions, internals: ProviderInternals = {}): RolesAnywhereProvider {
  if (options === null || typeof options !== 'object') {
    throw forSdk(new AgentError('ARGUMENT_INVALID', 'fromRolesAnywhere: options must be an object', { hint: 'pass { certificate, privateKey, trustAnchorArn, profileArn, roleArn, … }' }));
  }
  const clock = internals.clock ?? systemClock;
  const logger = options.logger;
  const accountId = accountOf(options.roleArn);
  let session: Promise<LibrarySession> | undefined;
  let current: RolesAnywhereCredentials | undefined;
  let inFlight: Promise<RolesAnywhereCredentials> | undefined;

  const open = (): Promise<LibrarySession> => {
    session ??= import('./session.js').then(
      (m) =>
        new m.LibrarySession(options, {
          clock,
          env: options.env ?? process.env,
          ...(internals.transport ? { transport: internals.transport } : {}),
          ...(logger?.debug ? { debug: (m: string) => logger.debug!(m) } : {}),
          ...(logger?.warn ? { warn: (m: string) => logger.warn!(m) } : {}),
        }),
    );
    // A refused option stays refused: the next call reports it again rather than retrying.
    return session;
  };

  const fetch = async (): Promise<RolesAnywhereCredentials> => {
    const s = await open();
    const { credentials } = await s.fetch();
    current = { ...credentials, expiration: new Date(credentials.expiration), ...(accountId ? { accountId } : {}) };
    return { ...current };
  };

  const start = (): Promise<RolesAnywhereCredentials> => {
    const p = fetch()
      .catch((e) => {
        throw forSdk(e);
      })
      .finally(() => {
        if (inFlight === p) inFlight = undefined;
      });
    inFlight = p;
    return p;
  };

  const fresh = async (): Promise<boolean> => {
    if (!current) return false;
    const margin = (await open()).marginSeconds * 1000;
    return current.expiration.getTime() - clock.now() > margin;
  };

  const provider = async (props: { forceRefresh?: boolean } = {}): Promise<RolesAnywhereCredentials> => {
    if (props.forceRefresh) {
      // Always a new request: after the one in flight, if any, since that may predate what changed.
      const before = inFlight;
      if (before) await before.catch(() => {});
      return inFlight && inFlight !== before ? inFlight : start();
    }
    if (inFlight) return inFlight;
    try {
      if (await fresh()) return { ...current! };
    } catch (e) {
      throw forSdk(e);
    }
    const held = current;
    try {
      return await (inFlight ?? start());
    } catch (e) {
      // A blip inside the refresh window is not the caller's problem while the credentials it
      // holds are still good for a while: keep them, and try again on the next call.
      if (held && held.expiration.getTime() - clock.now() > STILL_USABLE_MS) {
        logger?.warn?.(`fromRolesAnywhere: refresh failed, keeping credentials that expire at ${held.expiration.toISOString()}: ${(e as Error).message}`);
        return { ...held };
      }
      throw e;
    }
  };

  return Object.assign(provider, {
    async close() {
      const s = session;
      session = undefined;
      current = undefined;
      if (s) await (await s.catch(() => undefined))?.close();
    },
  });
}
