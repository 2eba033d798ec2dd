/**
 * Which PKCS#11 module to load, and loading the native binding (pkcs11js) only when a pkcs11: URI is
 * configured, so an install whose native build failed still serves file keys. The module comes from
 * the URI's `module-path`, else `--pkcs11-lib` / `pkcs11_lib:`, else p11-kit's proxy (which exposes
 * every module registered with p11-kit) at its usual places.
 */
import { existsSync } from 'node:fs';
import { AgentError } from '../../errors.js';

export type Pkcs11Js = typeof import('pkcs11js');

/** Where distributions install p11-kit's proxy module. */
export const P11_KIT_PROXY_PATHS: readonly string[] = [
  '/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so',
  '/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so',
  '/usr/lib/arm-linux-gnueabihf/p11-kit-proxy.so',
  '/usr/lib/i386-linux-gnu/p11-kit-proxy.so',
  '/usr/lib/powerpc64le-linux-gnu/p11-kit-proxy.so',
  '/usr/lib/s390x-linux-gnu/p11-kit-proxy.so',
  '/usr/lib/riscv64-linux-gnu/p11-kit-proxy.so',
  '/usr/lib64/p11-kit-proxy.so',
  '/usr/lib/p11-kit-proxy.so',
  '/usr/local/lib/p11-kit-proxy.so',
];

export interface ModuleChoice {
  /** `module-path` from the URI. */
  uriModulePath?: string | undefined;
  /** `--pkcs11-lib` / `pkcs11_lib:`. */
  configured?: string | undefined;
  exists?: (path: string) => boolean;
}

export function resolveModulePath({ uriModulePath, configured, exists = existsSync }: ModuleChoice): string {
  if (uriModulePath !== undefined && configured !== undefined && uriModulePath !== configured) {
    throw new AgentError('CONFIG_INVALID', `the pkcs11: URI names module-path ${uriModulePath} but the configuration names pkcs11_lib ${configured}`, {
      hint: 'keep one of them',
    });
  }
  const chosen = uriModulePath ?? configured;
  if (chosen !== undefined) return chosen;
  const proxy = P11_KIT_PROXY_PATHS.find((p) => exists(p));
  if (proxy) return proxy;
  throw new AgentError('PKCS11', 'no PKCS#11 module configured and p11-kit-proxy.so was not found', {
    hint: 'name the module with --pkcs11-lib /path/to/module.so (or pkcs11_lib: in the schedule, or module-path= in the URI), or install p11-kit (Debian: p11-kit-modules)',
  });
}

/** The real loader: `await import('pkcs11js')`, default import (a namespace import loses its constants). */
export async function importPkcs11Js(): Promise<Pkcs11Js> {
  try {
    const mod = (await import('pkcs11js')) as unknown as { default?: Pkcs11Js } & Pkcs11Js;
    const api = mod.default ?? mod;
    if (typeof api.PKCS11 !== 'function' || typeof api.CKA_CLASS !== 'number') throw new Error('pkcs11js loaded without its PKCS11 class or constants');
    return api;
  } catch (e) {
    throw pkcs11JsMissing(e);
  }
}

export function pkcs11JsMissing(e: unknown): AgentError {
  return new AgentError('PKCS11', `the PKCS#11 native binding (pkcs11js) could not be loaded: ${(e as Error)?.message ?? String(e)}`, {
    hint: 'rebuild it with `npm rebuild pkcs11js` (it needs a C++ compiler, python3 and Node headers: npm_config_nodedir=/usr); keys in files work without it',
    cause: e,
  });
}
