/**
 * A test seam around the real pkcs11js binding: it records every C_* call, lets a test make the
 * next call(s) of a function fail with a given CKR value, hides mechanisms from C_GetMechanismList
 * (a token without CKM_SHA256_RSA_PKCS), and keeps the PKCS11 instances so a test can finalise the
 * library or close all sessions behind the agent's back. Everything else is the real SoftHSM.
 */
import type { PKCS11 } from 'pkcs11js';
import { importPkcs11Js, type Pkcs11Js } from '../../../src/keys/pkcs11/library.js';

export interface Spy {
  load: () => Promise<Pkcs11Js>;
  calls: string[];
  instances: PKCS11[];
  hiddenMechanisms: Set<number>;
  /** The user type of each C_Login (CKU_USER, CKU_CONTEXT_SPECIFIC). */
  loginTypes: number[];
  /** The mechanism of each C_SignInit. */
  signMechanisms: number[];
  /** Function name → CKR values its next calls fail with, one per call. */
  failures: Map<string, number[]>;
  count(name: string): number;
  api(): Promise<Pkcs11Js>;
}

export function spyPkcs11(): Spy {
  const calls: string[] = [];
  const instances: PKCS11[] = [];
  const hiddenMechanisms = new Set<number>();
  const loginTypes: number[] = [];
  const signMechanisms: number[] = [];
  const failures = new Map<string, number[]>();
  let real: Pkcs11Js | undefined;

  async function load(): Promise<Pkcs11Js> {
    real ??= await importPkcs11Js();
    const api = real;
    function SpyPKCS11(): PKCS11 {
      const inst = new api.PKCS11();
      instances.push(inst);
      return new Proxy(inst, {
        get(target, prop) {
          const value: unknown = Reflect.get(target, prop, target);
          if (typeof value !== 'function') return value;
          const fn = value as (...a: unknown[]) => unknown;
          if (typeof prop !== 'string' || !prop.startsWith('C_')) return fn.bind(target);
          return (...args: unknown[]) => {
            calls.push(prop);
            if (prop === 'C_Login') loginTypes.push(args[1] as number);
            if (prop === 'C_SignInit') signMechanisms.push((args[1] as { mechanism: number }).mechanism);
            const queued = failures.get(prop.replace(/Async$/, ''));
            const rv = queued?.shift();
            if (rv !== undefined) {
              const name = Object.entries(api).find(([k, v]) => k.startsWith('CKR_') && v === rv)?.[0] ?? 'CKR_VENDOR';
              throw new api.Pkcs11Error(`${name}:${rv}`, rv, prop);
            }
            const result = fn.apply(target, args);
            if (prop === 'C_GetMechanismList') return (result as number[]).filter((m) => !hiddenMechanisms.has(m));
            return result;
          };
        },
      });
    }
    return { ...api, PKCS11: SpyPKCS11 as unknown as Pkcs11Js['PKCS11'] };
  }

  return {
    load,
    calls,
    instances,
    hiddenMechanisms,
    loginTypes,
    signMechanisms,
    failures,
    count: (name) => calls.filter((c) => c === name).length,
    api: async () => (real ??= await importPkcs11Js()),
  };
}
