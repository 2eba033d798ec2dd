/**
 * The options of `fromRolesAnywhere`: the schedule's profile keys in camelCase (one list, the
 * schedule's PROFILE_KEYS, names them both), plus what only a library caller has (a logger, an
 * environment). This module is loaded with the library entry point, so it imports nothing heavy:
 * the values are validated by the schedule's own readers on the provider's first call.
 */
import { PROFILE_KEYS, type ProfileKey } from '../config/keys.js';

/** The SDK's Logger shape: every method optional, none ever receives a secret. */
export interface RolesAnywhereLogger {
  debug?(...content: unknown[]): void;
  info?(...content: unknown[]): void;
  warn?(...content: unknown[]): void;
  error?(...content: unknown[]): void;
}

export interface FromRolesAnywhereOptions {
  /** End-entity certificate (PEM/DER; extra PEM blocks are the chain), a `.p12`/`.pfx` bundle, or a `pkcs11:` URI. */
  certificate: string;
  /** Private key file (PEM PKCS#1/PKCS#8/SEC1, encrypted PKCS#8) or a `pkcs11:` URI; not with a PKCS#12 bundle. */
  privateKey?: string;
  /** File holding the key or bundle password. */
  privateKeyPasswordFile?: string;
  /** Environment variable holding the key or bundle password. */
  privateKeyPasswordEnv?: string;
  /** PEM bundle of up to 5 intermediate CA certificates, the leaf's issuer first. */
  intermediates?: string;
  /** The PKCS#11 module (default: p11-kit's proxy). */
  pkcs11Lib?: string;
  /** File holding the token PIN. */
  pkcs11PinFile?: string;
  /** Environment variable holding the token PIN. */
  pkcs11PinEnv?: string;
  /** Log in again before each signature (CKA_ALWAYS_AUTHENTICATE keys). */
  reusePin?: boolean;
  trustAnchorArn: string;
  profileArn: string;
  roleArn: string;
  /** Shown in CloudTrail, if the Roles Anywhere profile accepts custom names. */
  roleSessionName?: string;
  /** Default: the trust anchor's region. */
  region?: string;
  /** A VPC endpoint or the local emulator (http:// only on loopback). */
  endpoint?: string;
  /** The FIPS endpoint. */
  fips?: boolean;
  /** File of extra CA certificates for the endpoint's TLS (added to the system's); else `AWS_CA_BUNDLE` of `env`. */
  caBundle?: string;
  /** TLS verification off: for tests only. */
  noVerifySsl?: boolean;
  /** `true` (the default): HTTPS_PROXY and NO_PROXY are honoured; `false`: connect directly, ignoring them. */
  withProxy?: boolean;
  /** Connect timeout of each request (TCP, TLS, a proxy's CONNECT): seconds or text, 1s to 5m. Default 10 s. */
  connectTimeout?: number | string;
  /** Seconds, or text such as `1h` or `15m`: 15 min to 12 h. Default 1 h. */
  sessionDuration?: number | string;
  /**
   * When to fetch new credentials: `beforeExpiry` (seconds or text, default `5m`) before they
   * expire. A cron schedule has no meaning here and is refused.
   */
  refresh?: { beforeExpiry?: number | string };
  /** Receives request details (never a secret) at debug level, and warnings. */
  logger?: RolesAnywhereLogger;
  /** Where `*Env` options, proxies (HTTPS_PROXY, NO_PROXY) and AWS_ENDPOINT_URL* are read; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Schedule keys that belong to the agent's machinery, not to a provider: the provider has no
 * watcher (it compares its files' fingerprints at each new request). Refused with a reason.
 */
export const AGENT_ONLY_KEYS: ReadonlyMap<string, string> = new Map([
  ['watchInterval', 'only the agent watches files on a timer; the provider checks its files at each new request'],
]);

/** What only the library has; every other option is a schedule key in camelCase. */
export const LIBRARY_ONLY_OPTIONS = ['logger', 'env'] as const;

export function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** camelCase option name → schedule key, built from the schedule's own list. */
export const OPTION_KEYS: ReadonlyMap<string, ProfileKey> = new Map(PROFILE_KEYS.map((k) => [camelCase(k), k]));

/** The schedule key of each refresh sub-option. */
const REFRESH_OPTION_KEYS: ReadonlyMap<string, string> = new Map([['beforeExpiry', 'before_expiry']]);

/** The library's default refresh margin, as the SDK's own providers use. */
export const DEFAULT_LIBRARY_MARGIN = '5m';

/**
 * The options as schedule settings (snake_case), for the schedule's readers. Unknown option names
 * are passed through in snake_case so that the reader reports them with its did-you-mean hint.
 */
export function toScheduleSettings(options: FromRolesAnywhereOptions): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [name, value] of Object.entries(options)) {
    if ((LIBRARY_ONLY_OPTIONS as readonly string[]).includes(name) || value === undefined) continue;
    const key = OPTION_KEYS.get(name) ?? name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (key === 'refresh' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const refresh: Record<string, unknown> = Object.create(null);
      for (const [sub, v] of Object.entries(value as Record<string, unknown>)) {
        if (v !== undefined) refresh[REFRESH_OPTION_KEYS.get(sub) ?? sub.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
      }
      // No jitter: a provider refreshes when called, not on a timer shared with other hosts.
      out[key] = { jitter: 0, ...refresh };
      continue;
    }
    out[key] = value;
  }
  if (out.refresh === undefined) out.refresh = { before_expiry: DEFAULT_LIBRARY_MARGIN, jitter: 0 };
  return out;
}

/** `profiles.x.role_arn`-style issue paths in the options' own spelling: `role_arn` → `roleArn`, `refresh.before_expiry` → `refresh.beforeExpiry`. */
export function optionPath(path: string): string {
  return path.split('.').map(camelCase).join('.');
}
