/**
 * One token's session, shared by every signer on that token and reused across refreshes. All uses
 * go through the token's queue (C_SignInit … C_Sign never interleave). It owns the login (user and
 * context-specific), the recovery when the session, the login or the library is lost (reopen, log
 * in again, retry once, with a bounded backoff between failed reopen attempts), and the PIN guard:
 * a PIN the token rejected is never sent again until the PIN source yields another one, because
 * tokens lock after a few wrong PINs.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Handle } from 'pkcs11js';
import { AgentError, isAgentError } from '../../errors.js';
import type { Clock } from '../../time/clock.js';
import { CKR, ckrName, classifyCkr, returnValueOf } from './ckr.js';
import { tokenName, type Pkcs11Module, type TokenSlot } from './module.js';
import { PIN_HOWTO, type PinLogger, type PinSource } from './pin.js';
import { SerialQueue } from './queue.js';

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_REOPEN_BACKOFF: Backoff = { initialMs: 1000, maxMs: 60_000 };

/** Delay before reopen attempt n+1 after n consecutive failures (n ≥ 1): doubling, capped. */
export function reopenDelay(failures: number, b: Backoff): number {
  return Math.min(b.maxMs, b.initialMs * 2 ** Math.max(0, failures - 1));
}

/** Who is asking for the session: how to log in, and where warnings go. */
export interface Auth {
  pin: PinSource;
  logger?: PinLogger | undefined;
}

// CK_TOKEN_INFO flags (standard values).
const CKF_LOGIN_REQUIRED = 0x4;
const CKF_PROTECTED_AUTHENTICATION_PATH = 0x100;
const CKF_USER_PIN_FINAL_TRY = 0x20000;
const CKF_USER_PIN_LOCKED = 0x40000;

export class TokenSession {
  /** Bumped at each new session: object handles found under an older epoch are looked up again. */
  epoch = 0;
  private session: Handle | null = null;
  private loggedIn = false;
  private openedInGeneration = -1;
  private slotStale = false;
  private failures = 0;
  private nextAttemptAt = 0;
  private lastFailure = '';
  private rejectedPin: Buffer | undefined;
  private readonly pinKey = randomBytes(32);
  private readonly ownQueue = new SerialQueue();

  constructor(
    readonly module: Pkcs11Module,
    private slotInfo: TokenSlot,
    private readonly clock: Clock,
    private readonly backoff: Backoff,
  ) {}

  get facts(): TokenSlot {
    return this.slotInfo;
  }

  get slot(): Handle {
    return this.slotInfo.slot;
  }

  get name(): string {
    return tokenName(this.slotInfo);
  }

  private get queue(): SerialQueue {
    return this.module.sharedQueue ?? this.ownQueue;
  }

  /**
   * Runs `op` on the open session (opening and logging in first when needed). When the session,
   * the login or the library was lost, it reopens and runs `op` once more. `auth` null asks for a
   * public session (reading certificates) and never logs in.
   */
  run<T>(op: (session: Handle) => Promise<T> | T, auth: Auth | null): Promise<T> {
    return this.queue.run(async () => {
      for (let attempt = 0; ; attempt++) {
        const session = this.ensureOpen(auth);
        try {
          return await op(session);
        } catch (e) {
          const rv = returnValueOf(e);
          // Whatever failed, an operation may still be active in this session: start afresh.
          this.drop(rv);
          if (rv !== undefined && classifyCkr(rv) === 'reopen' && attempt === 0) continue;
          throw e;
        }
      }
    });
  }

  /** Logs in for one operation on a CKA_ALWAYS_AUTHENTICATE key (after C_SignInit, before C_Sign). */
  loginContext(session: Handle, auth: Auth): void {
    const pin = auth.pin.read();
    if (pin === undefined) {
      throw new AgentError('PKCS11_PIN', `the key on ${this.name} needs the PIN for every signature and no PIN is configured`, { hint: PIN_HOWTO });
    }
    this.guardPin(pin, auth);
    this.login(session, this.module.api.CKU_CONTEXT_SPECIFIC, pin, auth);
  }

  /** Logs out and closes the session (the last signer of this token closed). */
  close(): Promise<void> {
    return this.queue.run(() => {
      if (this.session && this.loggedIn) {
        try {
          this.module.lib.C_Logout(this.session);
        } catch {
          // Closing the session below logs out as well.
        }
      }
      this.drop();
    });
  }

  private drop(rv?: number): void {
    if (this.session) {
      try {
        this.module.lib.C_CloseSession(this.session);
      } catch {
        // The session is already gone; that is why it is being dropped.
      }
    }
    this.session = null;
    this.loggedIn = false;
    if (rv === CKR.CRYPTOKI_NOT_INITIALIZED) this.module.needsInitialise = true;
    if (rv === CKR.DEVICE_REMOVED || rv === CKR.TOKEN_NOT_PRESENT || rv === CKR.SLOT_ID_INVALID) this.slotStale = true;
  }

  private ensureOpen(auth: Auth | null): Handle {
    if (this.session && this.openedInGeneration !== this.module.generation) this.drop();
    if (this.session && (this.loggedIn || auth === null)) return this.session;
    // Opened for reading certificates and a signer now needs a login: start from a fresh session.
    if (this.session) this.drop();
    const now = this.clock.now();
    if (now < this.nextAttemptAt) {
      throw new AgentError('PKCS11', `${this.name} is unavailable (${this.lastFailure}); next attempt in ${Math.ceil((this.nextAttemptAt - now) / 1000)} s`, {
        retryable: true,
        hint: 'check that the token is present and its PKCS#11 module works (list-certs shows what the module sees)',
      });
    }
    try {
      return this.open(auth);
    } catch (e) {
      if (isAgentError(e) && !e.retryable) throw e;
      this.failures++;
      this.nextAttemptAt = now + reopenDelay(this.failures, this.backoff);
      const rv = returnValueOf(e);
      this.lastFailure = rv !== undefined ? ckrName(rv) : isAgentError(e) ? e.message : String((e as Error).message ?? e);
      if (isAgentError(e)) throw e;
      throw new AgentError('PKCS11', `cannot open a session on ${this.name}: ${this.lastFailure}`, {
        retryable: true,
        hint: 'check that the token is present; the agent tries again with backoff',
        cause: e,
      });
    }
  }

  private open(auth: Auth | null): Handle {
    const { lib, api } = this.module;
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.module.needsInitialise) this.module.initialise();
        if (this.slotStale) this.relocate();
        const session = lib.C_OpenSession(this.slot, api.CKF_SERIAL_SESSION);
        try {
          if (auth) this.loginUser(session, auth);
        } catch (e) {
          try {
            lib.C_CloseSession(session);
          } catch {
            // Best effort: the login failure is what gets reported.
          }
          throw e;
        }
        this.session = session;
        this.openedInGeneration = this.module.generation;
        this.epoch++;
        this.failures = 0;
        this.nextAttemptAt = 0;
        return session;
      } catch (e) {
        const rv = returnValueOf(e);
        if (attempt === 0 && rv === CKR.CRYPTOKI_NOT_INITIALIZED) {
          this.module.needsInitialise = true;
          continue;
        }
        if (attempt === 0 && (rv === CKR.DEVICE_REMOVED || rv === CKR.TOKEN_NOT_PRESENT || rv === CKR.SLOT_ID_INVALID)) {
          this.slotStale = true;
          continue;
        }
        throw e;
      }
    }
  }

  /** Finds the slot of this same token again (a re-inserted token may sit in another slot). */
  private relocate(): void {
    const me = this.slotInfo;
    const present = this.module.tokens();
    const found = present.find((t) => t.label === me.label && t.serial === me.serial && t.manufacturer === me.manufacturer && t.model === me.model);
    if (!found) {
      throw new AgentError('PKCS11', `${tokenName({ label: me.label, serial: me.serial })} is not present in ${this.module.path}`, {
        retryable: true,
        hint: 'insert the token; the agent tries again with backoff',
      });
    }
    this.slotInfo = found;
    this.slotStale = false;
  }

  /** Logs the user in, or finds that this token needs no login; either way `loggedIn` is then true. */
  private loginUser(session: Handle, auth: Auth): void {
    const { lib, api } = this.module;
    const flags = lib.C_GetTokenInfo(this.slot).flags;
    if (flags & CKF_USER_PIN_LOCKED) {
      throw new AgentError('PKCS11_PIN', `the user PIN of ${this.name} is locked`, {
        hint: 'unlock it with the token\'s SO PIN (e.g. pkcs11-tool --unlock-pin), then fix the agent\'s PIN source',
      });
    }
    const pin = auth.pin.read();
    if (pin === undefined) {
      if (flags & CKF_PROTECTED_AUTHENTICATION_PATH) {
        this.login(session, api.CKU_USER, undefined, auth);
        this.loggedIn = true;
      } else if (flags & CKF_LOGIN_REQUIRED) {
        throw new AgentError('PKCS11_PIN', `${this.name} needs a PIN and none is configured (the agent never prompts)`, { hint: PIN_HOWTO });
      }
      this.loggedIn = true;
      return;
    }
    this.guardPin(pin, auth);
    if (flags & CKF_USER_PIN_FINAL_TRY) auth.logger?.('warn', `${this.name} reports one PIN attempt left before it locks`);
    this.login(session, api.CKU_USER, pin, auth);
    this.loggedIn = true;
  }

  private pinDigest(pin: string): Buffer {
    return createHmac('sha256', this.pinKey).update(pin).digest();
  }

  private guardPin(pin: string, auth: Auth): void {
    if (this.rejectedPin && this.rejectedPin.equals(this.pinDigest(pin))) {
      throw new AgentError('PKCS11_PIN', `${this.name} already rejected the PIN from ${auth.pin.description}; it is not sent again, so the token does not lock`, {
        hint: `put the right PIN in ${auth.pin.description}; the next attempt uses it`,
      });
    }
  }

  private login(session: Handle, userType: number, pin: string | undefined, auth: Auth): void {
    try {
      this.module.lib.C_Login(session, userType, pin);
      if (pin !== undefined) this.rejectedPin = undefined;
    } catch (e) {
      const rv = returnValueOf(e);
      if (rv === CKR.USER_ALREADY_LOGGED_IN) return;
      if (rv !== undefined && classifyCkr(rv) === 'pin') {
        if (pin !== undefined && rv !== CKR.PIN_LOCKED) this.rejectedPin = this.pinDigest(pin);
        throw pinRejected(this.name, rv, auth.pin.description, e);
      }
      throw e;
    }
  }
}

function pinRejected(token: string, rv: number, source: string, cause: unknown): AgentError {
  const locked = rv === CKR.PIN_LOCKED;
  return new AgentError(
    'PKCS11_PIN',
    locked
      ? `${token} refused the login: its PIN is locked (${ckrName(rv)})`
      : `${token} rejected the PIN from ${source} (${ckrName(rv)}); the agent will not retry it, so the token does not lock`,
    {
      retryable: false,
      hint: locked
        ? 'unlock the PIN with the SO PIN (e.g. pkcs11-tool --unlock-pin), then fix the agent\'s PIN source'
        : `put the token's user PIN in ${source}; a few more wrong PINs lock the token`,
      cause,
    },
  );
}
