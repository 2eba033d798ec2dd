/**
 * One loaded PKCS#11 module (a .so): loading it, C_Initialize (again after someone finalised it),
 * the tokens it offers, and C_Finalize when the last token of it is released. The library is
 * initialised with CKF_OS_LOCKING_OK because signatures run on libuv's thread pool; a module that
 * cannot lock (CKR_CANT_LOCK) is initialised without it, and then every token of the module shares
 * one queue so no two calls reach it at once.
 */
import type { Handle, PKCS11 } from 'pkcs11js';
import { AgentError } from '../../errors.js';
import { CKR, ckrName, returnValueOf } from './ckr.js';
import type { Pkcs11Js } from './library.js';
import { SerialQueue } from './queue.js';
import type { TokenFacts } from './uri.js';

export interface TokenSlot extends TokenFacts {
  slot: Handle;
  flags: number;
}

const CKF_TOKEN_INITIALIZED = 0x400;

function trimmed(s: string): string {
  return s.replace(/[\s\0]+$/, '');
}

export class Pkcs11Module {
  /** Bumped at each C_Initialize: session handles from an older generation are dead. */
  generation = 0;
  /** Set when a call reported CKR_CRYPTOKI_NOT_INITIALIZED; the next open initialises again. */
  needsInitialise = false;
  /** Present when the module cannot lock for itself: all its tokens then share this queue. */
  sharedQueue: SerialQueue | undefined;
  private ownsInitialisation = true;

  private constructor(
    readonly path: string,
    readonly api: Pkcs11Js,
    readonly lib: PKCS11,
  ) {}

  static open(api: Pkcs11Js, path: string): Pkcs11Module {
    const lib = new api.PKCS11();
    try {
      lib.load(path);
    } catch (e) {
      throw new AgentError('PKCS11', `cannot load the PKCS#11 module ${path}: ${(e as Error).message}`, {
        hint: 'check --pkcs11-lib / pkcs11_lib: (or module-path= in the URI): it must be the path of a PKCS#11 .so the agent user can read',
        cause: e,
      });
    }
    const m = new Pkcs11Module(path, api, lib);
    try {
      m.initialise();
    } catch (e) {
      try {
        lib.close();
      } catch {
        // The load failed half-way; nothing more to release.
      }
      throw e;
    }
    return m;
  }

  initialise(): void {
    try {
      this.lib.C_Initialize({ flags: this.api.CKF_OS_LOCKING_OK });
    } catch (e) {
      const rv = returnValueOf(e);
      if (rv === CKR.CANT_LOCK) {
        this.sharedQueue ??= new SerialQueue();
        this.initialiseWithoutArgs();
      } else if (rv === CKR.CRYPTOKI_ALREADY_INITIALIZED) {
        // Someone else in this process initialised it first: it is theirs to finalise.
        if (this.generation === 0) this.ownsInitialisation = false;
      } else {
        throw this.failure('C_Initialize', e);
      }
    }
    this.needsInitialise = false;
    this.generation++;
  }

  private initialiseWithoutArgs(): void {
    try {
      this.lib.C_Initialize();
    } catch (e) {
      if (returnValueOf(e) !== CKR.CRYPTOKI_ALREADY_INITIALIZED) throw this.failure('C_Initialize', e);
    }
  }

  failure(call: string, e: unknown): AgentError {
    const rv = returnValueOf(e);
    const what = rv === undefined ? (e as Error).message : ckrName(rv);
    return new AgentError('PKCS11', `PKCS#11 module ${this.path}: ${call} failed (${what})`, { retryable: true, cause: e });
  }

  library(): Pick<TokenFacts, 'libraryManufacturer' | 'libraryDescription' | 'libraryVersion'> {
    const info = this.lib.C_GetInfo();
    return {
      libraryManufacturer: trimmed(info.manufacturerID),
      libraryDescription: trimmed(info.libraryDescription),
      libraryVersion: info.libraryVersion,
    };
  }

  /** Tokens present now, in slot order; a slot whose token cannot be read is left out. */
  tokens(): TokenSlot[] {
    const lib = this.library();
    const out: TokenSlot[] = [];
    for (const slot of this.lib.C_GetSlotList(true)) {
      try {
        const si = this.lib.C_GetSlotInfo(slot);
        const ti = this.lib.C_GetTokenInfo(slot);
        // An uninitialised token (SoftHSM always offers one) holds nothing and cannot log in.
        if (!(ti.flags & CKF_TOKEN_INITIALIZED)) continue;
        out.push({
          ...lib,
          slot,
          slotId: slot.length === 8 ? slot.readBigUInt64LE() : BigInt(slot.readUInt32LE()),
          slotDescription: trimmed(si.slotDescription),
          slotManufacturer: trimmed(si.manufacturerID),
          label: trimmed(ti.label),
          manufacturer: trimmed(ti.manufacturerID),
          model: trimmed(ti.model),
          serial: trimmed(ti.serialNumber),
          flags: ti.flags,
        });
      } catch {
        // A token pulled out between C_GetSlotList and C_GetTokenInfo: not present.
      }
    }
    return out;
  }

  /** Called when the last token of this module is released. */
  finalize(): void {
    if (this.ownsInitialisation) {
      try {
        this.lib.C_Finalize();
      } catch {
        // Already finalised (by us after an error, or by another user of the library).
      }
    }
    try {
      this.lib.close();
    } catch {
      // Closing the handle can only fail if it is already closed.
    }
  }
}

/** `"label" (serial S, slot N)` for messages and lists. */
export function tokenName(t: Pick<TokenFacts, 'label' | 'serial'> & Partial<Pick<TokenFacts, 'slotId'>>): string {
  return `token "${t.label}" (serial ${t.serial}${t.slotId !== undefined ? `, slot ${t.slotId}` : ''})`;
}
