/**
 * PKCS#11 return values (CKR_*) this agent reacts to, and what each one means for a long-running
 * signer: reopen the session (and log in again), stop because of the PIN, or report. Classification
 * uses the numeric value carried by pkcs11js's Pkcs11Error (`code`), never its message text. Pure:
 * the numbers are the standard's, so this works without the native module loaded.
 */

export const CKR = {
  OK: 0x0,
  HOST_MEMORY: 0x2,
  SLOT_ID_INVALID: 0x3,
  GENERAL_ERROR: 0x5,
  FUNCTION_FAILED: 0x6,
  CANT_LOCK: 0xa,
  DEVICE_ERROR: 0x30,
  DEVICE_MEMORY: 0x31,
  DEVICE_REMOVED: 0x32,
  KEY_HANDLE_INVALID: 0x60,
  OBJECT_HANDLE_INVALID: 0x82,
  OPERATION_ACTIVE: 0x90,
  PIN_INCORRECT: 0xa0,
  PIN_INVALID: 0xa1,
  PIN_LEN_RANGE: 0xa2,
  PIN_EXPIRED: 0xa3,
  PIN_LOCKED: 0xa4,
  SESSION_CLOSED: 0xb0,
  SESSION_COUNT: 0xb1,
  SESSION_HANDLE_INVALID: 0xb3,
  TOKEN_NOT_PRESENT: 0xe0,
  TOKEN_NOT_RECOGNIZED: 0xe1,
  USER_ALREADY_LOGGED_IN: 0x100,
  USER_NOT_LOGGED_IN: 0x101,
  USER_PIN_NOT_INITIALIZED: 0x102,
  CRYPTOKI_NOT_INITIALIZED: 0x190,
  CRYPTOKI_ALREADY_INITIALIZED: 0x191,
} as const;

const NAMES = new Map<number, string>(Object.entries(CKR).map(([k, v]) => [v, `CKR_${k}`]));

/** `CKR_PIN_INCORRECT`, or `CKR_0x…` for values this table does not name. */
export function ckrName(rv: number): string {
  return NAMES.get(rv) ?? `CKR_0x${rv.toString(16).padStart(8, '0')}`;
}

/**
 * - `reopen`: the session, the login or the library state is gone; open a new session, log in again
 *   (re-initialising the library if needed) and retry once.
 * - `pin`: the PIN is wrong, locked or unusable; never retry with the same PIN (tokens lock).
 * - `transient`: the device hiccupped; the caller's backoff may retry.
 * - `fatal`: retrying cannot help (wrong mechanism, key not allowed to sign, …).
 */
export type CkrClass = 'reopen' | 'pin' | 'transient' | 'fatal';

const REOPEN = new Set<number>([
  CKR.SESSION_HANDLE_INVALID,
  CKR.SESSION_CLOSED,
  CKR.USER_NOT_LOGGED_IN,
  CKR.DEVICE_REMOVED,
  CKR.TOKEN_NOT_PRESENT,
  CKR.CRYPTOKI_NOT_INITIALIZED,
  CKR.SLOT_ID_INVALID,
  // Object handles may change when a token is re-inserted or the library re-initialised.
  CKR.KEY_HANDLE_INVALID,
  CKR.OBJECT_HANDLE_INVALID,
]);
const PIN = new Set<number>([CKR.PIN_INCORRECT, CKR.PIN_INVALID, CKR.PIN_LEN_RANGE, CKR.PIN_EXPIRED, CKR.PIN_LOCKED, CKR.USER_PIN_NOT_INITIALIZED]);
const TRANSIENT = new Set<number>([
  CKR.HOST_MEMORY,
  CKR.GENERAL_ERROR,
  CKR.FUNCTION_FAILED,
  CKR.DEVICE_ERROR,
  CKR.DEVICE_MEMORY,
  CKR.SESSION_COUNT,
  CKR.TOKEN_NOT_RECOGNIZED,
  CKR.OPERATION_ACTIVE,
]);

export function classifyCkr(rv: number): CkrClass {
  if (REOPEN.has(rv)) return 'reopen';
  if (PIN.has(rv)) return 'pin';
  if (TRANSIENT.has(rv)) return 'transient';
  return 'fatal';
}

/** The CKR value of a pkcs11js Pkcs11Error, or undefined for anything else. */
export function returnValueOf(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const err = e as { name?: unknown; code?: unknown };
  if (err.name !== 'Pkcs11Error' || typeof err.code !== 'number') return undefined;
  return err.code;
}
