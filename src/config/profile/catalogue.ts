/**
 * The settings catalogue: every profile setting declared once — its schedule key, the
 * `credential-process`/`update` flag, the environment variable that stands in for it, its default,
 * its help and README text, and its JSON Schema entry; its reader sits in ./readers.ts, a table the
 * compiler makes complete for every key here. PROFILE_KEYS, SESSION_FLAGS and their `--help` are
 * derived from this list; the JSON Schema's profile object and the README's profile table are checked
 * against it (test/profile/catalogue.test.ts).
 *
 * Adding a setting: add one entry here and its reader in ./readers.ts, then read it where it takes
 * effect (profile/resolve.ts turns settings into a ResolvedProfile, profile/agent-profile.ts into the
 * agent's profile). This module is data only: `credential-process --help` loads it, and no reader.
 */
import { MAX_DURATION_SECONDS, MIN_DURATION_SECONDS } from '../../rolesanywhere/arn.js';

export type FlagGroup = 'Key material' | 'Session' | 'Transport';

export interface SettingFlag {
  /** The long option, without `--`. */
  name: string;
  type: 'string' | 'boolean';
  group: FlagGroup;
  /** `--name VALUE` as shown in --help. */
  usage: string;
  /** The --help text; more lines separated by \n. */
  help: string;
  /**
   * Flag text in a form of its own, checked before the setting's reader (the official helper's
   * `--session-duration` takes whole seconds only); returns the value for the reader, or throws.
   */
  parse?: (text: string) => unknown;
}

export interface SettingSpec {
  /** The schedule's key (snake_case); the library's option is its camelCase. */
  readonly key: string;
  /** Without it, a profile is refused. */
  readonly required?: boolean;
  readonly flag?: SettingFlag;
  /**
   * The environment variable read when no layer (defaults:, profile, flags) sets the key: applied by
   * the builder (profile/resolve.ts), or, for `endpoint`, by endpoint resolution at call time
   * (rolesanywhere/endpoint.ts also reads AWS_ENDPOINT_URL after it).
   */
  readonly env?: { name: string; appliedAt: 'resolve' | 'call' };
  /** The README table's value column and text. */
  readonly docs: { value: string; text: string };
  /** The entry under `$defs/profile/properties` of config/schedule.schema.json. */
  readonly schema: Readonly<Record<string, unknown>>;
}

/** Command-line text for a whole number of seconds, as the official helper reads `--session-duration`. */
export class FlagFormatError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

/** The official helper's `--session-duration`: whole seconds only, and its own range message. */
function sessionSeconds(text: string): number {
  if (!/^\d+$/.test(text)) throw new FlagFormatError(`--session-duration "${text}" is not a whole number of seconds`, 'use e.g. --session-duration 3600');
  const n = Number(text);
  if (n < MIN_DURATION_SECONDS || n > MAX_DURATION_SECONDS) {
    throw new FlagFormatError(`--session-duration ${text} is outside ${MIN_DURATION_SECONDS}–${MAX_DURATION_SECONDS} s`, 'use a whole number of seconds from 900 (15 min) to 43200 (12 h)');
  }
  return n;
}

export const SETTINGS = [
  {
    key: 'certificate',
    required: true,
    flag: { name: 'certificate', type: 'string', group: 'Key material', usage: '--certificate FILE|URI', help: 'end-entity certificate (PEM/DER), a PKCS#12 bundle, or a pkcs11: URI' },
    docs: { value: 'path or `pkcs11:` URI', text: 'end-entity certificate (PEM/DER; extra PEM blocks are the chain), or a PKCS#12 bundle; required' },
    schema: { $ref: '#/$defs/keySource', description: 'End-entity certificate (PEM/DER), a PKCS#12 bundle, or a pkcs11: URI. Required (here or in defaults).' },
  },
  {
    key: 'private_key',
    flag: {
      name: 'private-key',
      type: 'string',
      group: 'Key material',
      usage: '--private-key FILE|URI',
      help: 'private key (PEM PKCS#1/PKCS#8/SEC1, encrypted PKCS#8), a pkcs11: URI,\nor ssh-agent:[SOCKET] (a key held by an ssh-agent; default SSH_AUTH_SOCK);\nleave out with a .p12/.pfx certificate',
    },
    docs: {
      value: 'path, `pkcs11:` URI or `ssh-agent:[SOCKET]`',
      text: 'PEM PKCS#1/PKCS#8/SEC1 or encrypted PKCS#8; not with a PKCS#12 bundle; `ssh-agent:` signs with the agent\'s key that matches the certificate ([Keys in an ssh-agent](#keys-in-an-ssh-agent))',
    },
    schema: { $ref: '#/$defs/keySource', description: 'Private key file (PEM or PKCS#12) or a pkcs11: URI. Required unless the certificate is a PKCS#12 bundle or a pkcs11: URI.' },
  },
  {
    key: 'private_key_password_file',
    flag: { name: 'private-key-password-file', type: 'string', group: 'Key material', usage: '--private-key-password-file F', help: 'password of an encrypted key or PKCS#12 bundle, read from a file' },
    docs: { value: 'path', text: 'file holding the key or bundle password' },
    schema: { $ref: '#/$defs/path', description: 'File holding the key password. Exclusive with private_key_password_env.' },
  },
  {
    key: 'private_key_password_env',
    flag: { name: 'private-key-password-env', type: 'string', group: 'Key material', usage: '--private-key-password-env V', help: '… or from environment variable V' },
    docs: { value: 'variable name', text: 'environment variable holding it (one or the other)' },
    schema: { $ref: '#/$defs/envName', description: 'Environment variable holding the key password.' },
  },
  {
    key: 'intermediates',
    flag: { name: 'intermediates', type: 'string', group: 'Key material', usage: '--intermediates FILE', help: 'PEM bundle of up to 5 intermediate certificates' },
    docs: { value: 'path', text: 'PEM bundle of up to 5 intermediate CA certificates' },
    schema: { $ref: '#/$defs/path', description: 'PEM bundle of up to 5 intermediate certificates.' },
  },
  {
    key: 'pkcs11_lib',
    flag: { name: 'pkcs11-lib', type: 'string', group: 'Key material', usage: '--pkcs11-lib FILE', help: 'PKCS#11 module (default: p11-kit proxy)' },
    docs: { value: 'path', text: "the PKCS#11 module (default: p11-kit's proxy)" },
    schema: { $ref: '#/$defs/path', description: 'PKCS#11 module (only with pkcs11: URIs).' },
  },
  {
    key: 'pkcs11_pin_file',
    flag: { name: 'pkcs11-pin-file', type: 'string', group: 'Key material', usage: '--pkcs11-pin-file F', help: 'token PIN read from a file (or pin-source= in the URI)' },
    docs: { value: 'path', text: 'file holding the token PIN' },
    schema: { $ref: '#/$defs/path', description: 'File holding the token PIN (only with pkcs11: URIs).' },
  },
  {
    key: 'pkcs11_pin_env',
    flag: { name: 'pkcs11-pin-env', type: 'string', group: 'Key material', usage: '--pkcs11-pin-env V', help: '… or from environment variable V' },
    docs: { value: 'variable name', text: 'environment variable holding it' },
    schema: { $ref: '#/$defs/envName', description: 'Environment variable holding the token PIN (only with pkcs11: URIs).' },
  },
  {
    key: 'reuse_pin',
    flag: { name: 'reuse-pin', type: 'boolean', group: 'Key material', usage: '--reuse-pin', help: 'log in again before each signature (CKA_ALWAYS_AUTHENTICATE keys)' },
    docs: { value: 'boolean, default false', text: 'log in again before each signature (CKA_ALWAYS_AUTHENTICATE keys)' },
    schema: { $ref: '#/$defs/boolean', description: 'Log in again before each signature (keys with CKA_ALWAYS_AUTHENTICATE).' },
  },
  {
    key: 'trust_anchor_arn',
    required: true,
    flag: { name: 'trust-anchor-arn', type: 'string', group: 'Session', usage: '--trust-anchor-arn ARN', help: 'the trust anchor (required)' },
    docs: { value: 'ARN', text: 'required' },
    schema: {
      type: ['string', 'null'],
      pattern: '^(arn:aws[a-z-]*:rolesanywhere:[a-z0-9-]+:\\d{12}:trust-anchor/[0-9a-f-]{36}|.*\\$\\{.*)$',
      description: 'Required (here or in defaults).',
    },
  },
  {
    key: 'profile_arn',
    required: true,
    flag: { name: 'profile-arn', type: 'string', group: 'Session', usage: '--profile-arn ARN', help: 'the Roles Anywhere profile (required)' },
    docs: { value: 'ARN', text: 'required, same region as the trust anchor' },
    schema: {
      type: ['string', 'null'],
      pattern: '^(arn:aws[a-z-]*:rolesanywhere:[a-z0-9-]+:\\d{12}:profile/[0-9a-f-]{36}|.*\\$\\{.*)$',
      description: "Roles Anywhere profile, in the trust anchor's region. Required (here or in defaults).",
    },
  },
  {
    key: 'role_arn',
    required: true,
    flag: { name: 'role-arn', type: 'string', group: 'Session', usage: '--role-arn ARN', help: 'the role to assume (required)' },
    docs: { value: 'ARN', text: 'the role to assume; required' },
    schema: { type: ['string', 'null'], pattern: '^(arn:aws[a-z-]*:iam::\\d{12}:role/.+|.*\\$\\{.*)$', description: 'The IAM role to assume. Required (here or in defaults).' },
  },
  {
    key: 'role_session_name',
    flag: { name: 'role-session-name', type: 'string', group: 'Session', usage: '--role-session-name NAME', help: 'if the profile accepts custom role session names' },
    docs: { value: 'text', text: 'shown in CloudTrail, if the profile accepts custom names' },
    schema: { type: ['string', 'null'], description: '2-64 characters of letters, digits and + = , . @ _ -.' },
  },
  {
    key: 'region',
    flag: { name: 'region', type: 'string', group: 'Session', usage: '--region REGION', help: "signing region (default: the trust anchor's)" },
    docs: { value: 'region', text: "default: the trust anchor's" },
    schema: { type: ['string', 'null'], description: "Default: the trust anchor's region." },
  },
  {
    key: 'endpoint',
    env: { name: 'AWS_ENDPOINT_URL_ROLESANYWHERE', appliedAt: 'call' },
    flag: { name: 'endpoint', type: 'string', group: 'Session', usage: '--endpoint URL', help: "service URL (else AWS_ENDPOINT_URL_ROLESANYWHERE, then the region's)" },
    docs: { value: 'URL', text: 'a VPC endpoint or the local emulator (http only on loopback)' },
    schema: { type: ['string', 'null'], format: 'uri', description: 'Service endpoint override (https; http only on loopback).' },
  },
  {
    key: 'fips',
    flag: { name: 'fips', type: 'boolean', group: 'Session', usage: '--fips', help: 'use the FIPS endpoint' },
    docs: { value: 'boolean, default false', text: 'the FIPS endpoint' },
    schema: { $ref: '#/$defs/boolean', default: false },
  },
  {
    key: 'ca_bundle',
    env: { name: 'AWS_CA_BUNDLE', appliedAt: 'resolve' },
    flag: { name: 'ca-bundle', type: 'string', group: 'Transport', usage: '--ca-bundle FILE', help: 'extra trusted CA certificates (else AWS_CA_BUNDLE)' },
    docs: { value: 'path', text: "extra CAs for the endpoint's TLS (added to the system's); else `AWS_CA_BUNDLE`" },
    schema: { $ref: '#/$defs/path', description: "Extra CA certificates for the endpoint's TLS; without it, AWS_CA_BUNDLE." },
  },
  {
    key: 'no_verify_ssl',
    flag: { name: 'no-verify-ssl', type: 'boolean', group: 'Transport', usage: '--no-verify-ssl', help: 'turn TLS verification off (never do this in production)' },
    docs: { value: 'boolean, default false', text: 'TLS verification off (tests only; warns)' },
    schema: { $ref: '#/$defs/boolean', default: false, description: 'Skip TLS verification (tests only).' },
  },
  {
    key: 'with_proxy',
    flag: {
      name: 'with-proxy',
      type: 'boolean',
      group: 'Transport',
      usage: '--with-proxy',
      help: 'accepted for compatibility: HTTPS_PROXY/NO_PROXY are honoured by default\n(with_proxy: false in a schedule connects directly)',
    },
    docs: {
      value: 'boolean, default true',
      text: '`true`: `HTTPS_PROXY` and `NO_PROXY` are honoured, lower-case names first, as by the AWS CLI, curl and Go (`HTTP_PROXY` is for http:// URLs, so it does not apply); a proxy without a scheme is read as `http://`, and one that is not an http(s) URL stops the agent at start (`validate` reports it). `false`: connect directly, ignoring those variables',
    },
    schema: { $ref: '#/$defs/boolean', default: true, description: 'true (the default): HTTPS_PROXY / NO_PROXY are honoured; false: connect directly and ignore them.' },
  },
  {
    key: 'connect_timeout',
    flag: {
      name: 'connect-timeout',
      type: 'string',
      group: 'Transport',
      usage: '--connect-timeout SECONDS',
      help: "time allowed to open a connection: TCP, TLS and a proxy's answer\nto CONNECT (default 10; each attempt also ends after 30 s, and at\nmost 4 attempts are made within 30 s)",
    },
    docs: { value: 'duration, default `10s`', text: "1s to 5m: time allowed to open each connection (TCP, TLS, and a proxy's answer to CONNECT); see [Timeouts and retries](#timeouts-and-retries)" },
    schema: { $ref: '#/$defs/duration', default: '10s', description: "Time allowed to open each connection (TCP, TLS, and a proxy's answer to CONNECT): 1s to 5m." },
  },
  {
    key: 'session_duration',
    flag: { name: 'session-duration', type: 'string', group: 'Session', usage: '--session-duration SECONDS', help: '900–43200 (default 3600)', parse: sessionSeconds },
    docs: { value: 'duration, default `1h`', text: "15m to 12h, within the Roles Anywhere profile's limit" },
    schema: { $ref: '#/$defs/duration', default: '1h', description: 'Credential lifetime to ask for: 15m to 12h.' },
  },
  {
    key: 'refresh',
    docs: { value: 'map, or null for the default', text: 'when to refresh: one of `before_expiry` or `cron`' },
    schema: {
      anyOf: [{ $ref: '#/$defs/refresh' }, { type: 'null' }],
      description: 'When to refresh; null restores the default (15m before expiry, or a quarter of the session if shorter).',
    },
  },
  {
    key: 'watch_interval',
    docs: {
      value: 'duration, default `60s`',
      text: 'also check the key files this often without waiting for file events (NFS, FUSE, some CSI mounts); `0` turns it off',
    },
    schema: {
      $ref: '#/$defs/duration',
      default: '60s',
      description: 'Check the certificate and key files this often even without file events (NFS, FUSE, some CSI mounts); 0 turns the check off; at most 1d.',
    },
  },
] as const satisfies readonly SettingSpec[];

export type ProfileKey = (typeof SETTINGS)[number]['key'];

export const PROFILE_KEYS: readonly ProfileKey[] = SETTINGS.map((s) => s.key);

export const REQUIRED_KEYS: readonly ProfileKey[] = SETTINGS.filter((s) => 'required' in s && s.required).map((s) => s.key);

/** The settings an environment variable stands in for, when the builder applies it. */
export const ENV_SETTINGS: readonly { key: ProfileKey; name: string }[] = SETTINGS.flatMap((s) =>
  'env' in s && s.env.appliedAt === 'resolve' ? [{ key: s.key as ProfileKey, name: s.env.name }] : [],
);

export function settingOf(key: ProfileKey): SettingSpec {
  return SETTINGS.find((s) => s.key === key)!;
}
