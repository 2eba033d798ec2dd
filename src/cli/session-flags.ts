/**
 * The flags `credential-process` and `update` share, compatible with the official helper
 * (`aws_signing_helper`), plus ours: turned into key-material, session and transport options.
 * Secrets may come from files or the environment so they never have to sit in argv.
 */
import { AgentError } from '../errors.js';
import type { KeyMaterialOptions, PasswordSource } from '../keys/options.js';
import type { CreateSessionOptions } from '../rolesanywhere/client.js';
import type { TransportOptions } from '../rolesanywhere/transport.js';
import { parseDuration } from '../time/duration.js';

export const SESSION_FLAGS = {
  certificate: { type: 'string' },
  'private-key': { type: 'string' },
  intermediates: { type: 'string' },
  'trust-anchor-arn': { type: 'string' },
  'profile-arn': { type: 'string' },
  'role-arn': { type: 'string' },
  'session-duration': { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  'role-session-name': { type: 'string' },
  'no-verify-ssl': { type: 'boolean' },
  'with-proxy': { type: 'boolean' },
  'connect-timeout': { type: 'string' },
  debug: { type: 'boolean' },
  fips: { type: 'boolean' },
  'ca-bundle': { type: 'string' },
  'pkcs8-password': { type: 'string' },
  'private-key-password-file': { type: 'string' },
  'private-key-password-env': { type: 'string' },
  'pkcs11-lib': { type: 'string' },
  'pkcs11-pin-file': { type: 'string' },
  'pkcs11-pin-env': { type: 'string' },
  'reuse-pin': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const SESSION_FLAGS_HELP = `Key material:
  --certificate FILE|URI        end-entity certificate (PEM/DER), a PKCS#12 bundle, or a pkcs11: URI
  --private-key FILE|URI        private key (PEM PKCS#1/PKCS#8/SEC1, encrypted PKCS#8), a pkcs11: URI,
                                or ssh-agent:[SOCKET] (a key held by an ssh-agent; default SSH_AUTH_SOCK);
                                leave out with a .p12/.pfx certificate
  --intermediates FILE          PEM bundle of up to 5 intermediate certificates
  --private-key-password-file F password of an encrypted key or PKCS#12 bundle, read from a file
  --private-key-password-env V  … or from environment variable V
  --pkcs8-password PW           … or inline (compatibility; visible in the process list)
  --pkcs11-lib FILE             PKCS#11 module (default: p11-kit proxy)
  --pkcs11-pin-file F / --pkcs11-pin-env V   token PIN (or pin-source= in the URI)
  --reuse-pin                   log in again before each signature (CKA_ALWAYS_AUTHENTICATE keys)
Session:
  --trust-anchor-arn ARN --profile-arn ARN --role-arn ARN   (required)
  --session-duration SECONDS    900–43200 (default 3600)
  --role-session-name NAME      if the profile accepts custom role session names
  --region REGION               signing region (default: the trust anchor's)
  --endpoint URL                service URL (else AWS_ENDPOINT_URL_ROLESANYWHERE, then the region's)
  --fips                        use the FIPS endpoint
Transport:
  --ca-bundle FILE              extra trusted CA certificates (else AWS_CA_BUNDLE)
  --no-verify-ssl               turn TLS verification off (never do this in production)
  --with-proxy                  accepted for compatibility: HTTPS_PROXY/NO_PROXY are always honoured
  --connect-timeout SECONDS     time allowed to open a connection: TCP, TLS and a proxy's answer
                                to CONNECT (default 10; each attempt also ends after 30 s, and at
                                most 4 attempts are made within 30 s)
  --debug                       print the canonical request and string to sign on stderr (no secrets)`;

export type SessionFlagValues = { [K in keyof typeof SESSION_FLAGS]?: (typeof SESSION_FLAGS)[K]['type'] extends 'string' ? string : boolean };

export interface SessionSettings {
  key: KeyMaterialOptions;
  session: CreateSessionOptions;
  transport: TransportOptions;
  debug: boolean;
  /** Warnings to show (e.g. a password in argv). */
  warnings: string[];
}

function bad(message: string, hint: string): AgentError {
  return new AgentError('ARGUMENT_INVALID', message, { hint });
}

export function parseDurationSeconds(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw bad(`--session-duration "${text}" is not a whole number of seconds`, 'use e.g. --session-duration 3600');
  return Number(text);
}

function parseConnectTimeout(text: string): number {
  const seconds = parseDuration(text);
  if (seconds === undefined || seconds < 1 || seconds > 300) throw bad(`--connect-timeout "${text}" is not 1 to 300 seconds`, 'use e.g. --connect-timeout 5 (or 5s, 1m)');
  return seconds;
}

export function sessionSettings(v: SessionFlagValues, env: NodeJS.ProcessEnv): SessionSettings {
  const warnings: string[] = [];
  const missing = (['certificate', 'trust-anchor-arn', 'profile-arn', 'role-arn'] as const).filter((k) => !v[k]);
  if (missing.length) {
    throw bad(`missing ${missing.map((m) => `--${m}`).join(', ')}`, 'see --help for the flags CreateSession needs');
  }
  const pw: PasswordSource = {};
  const pwGiven = [v['pkcs8-password'] !== undefined, !!v['private-key-password-file'], !!v['private-key-password-env']].filter(Boolean).length;
  if (pwGiven > 1) {
    throw bad('give the key password one way only', 'use one of --private-key-password-file, --private-key-password-env, --pkcs8-password');
  }
  if (v['pkcs8-password'] !== undefined) {
    pw.value = v['pkcs8-password'];
    warnings.push('--pkcs8-password puts the password in the process list; prefer --private-key-password-file or --private-key-password-env');
  }
  if (v['private-key-password-file']) pw.file = v['private-key-password-file'];
  if (v['private-key-password-env']) pw.env = v['private-key-password-env'];
  const key: KeyMaterialOptions = { certificate: v.certificate! };
  if (v['private-key']) key.privateKey = v['private-key'];
  if (v.intermediates) key.intermediates = v.intermediates;
  if (pwGiven) key.password = pw;
  if (v['pkcs11-lib']) key.pkcs11Lib = v['pkcs11-lib'];
  if (v['pkcs11-pin-file'] && v['pkcs11-pin-env']) throw bad('give the PIN one way only', 'use --pkcs11-pin-file or --pkcs11-pin-env');
  if (v['pkcs11-pin-file']) key.pin = { file: v['pkcs11-pin-file'] };
  if (v['pkcs11-pin-env']) key.pin = { env: v['pkcs11-pin-env'] };
  if (v['reuse-pin']) key.reusePin = true;
  const session: CreateSessionOptions = {
    trustAnchorArn: v['trust-anchor-arn']!,
    profileArn: v['profile-arn']!,
    roleArn: v['role-arn']!,
    durationSeconds: parseDurationSeconds(v['session-duration'], 3600),
    env,
  };
  if (v['role-session-name'] !== undefined) session.roleSessionName = v['role-session-name'];
  if (v.region) session.region = v.region;
  if (v.endpoint) session.endpoint = v.endpoint;
  if (v.fips) session.fips = true;
  const transport: TransportOptions = {};
  if (v['connect-timeout'] !== undefined) transport.connectTimeoutMs = parseConnectTimeout(v['connect-timeout']) * 1000;
  const ca = v['ca-bundle'] ?? env['AWS_CA_BUNDLE'];
  if (ca) transport.caBundle = ca;
  if (v['no-verify-ssl']) {
    transport.noVerifySsl = true;
    warnings.push('TLS verification is off (--no-verify-ssl): credentials could be sent to an impostor');
  }
  return { key, session, transport, debug: !!v.debug, warnings };
}
