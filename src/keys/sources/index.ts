/**
 * The key-source registry: the one place that decides what a certificate or private_key string names.
 * Every reader (schedule, flags, agent watches, caches, import, list-certs, the loader) asks here.
 * Adding a source: write one file beside these exporting a KeySource, and add it to SOURCES (first
 * claim wins; `file` stays last as the fallback).
 */
import { fileSource } from './file.js';
import { pkcs11Source } from './pkcs11.js';
import { pkcs12Source } from './pkcs12.js';
import type { KeySource } from './source.js';
import { sshAgentSource } from './ssh-agent.js';
import type { KeyMaterialOptions } from '../options.js';

export type { KeySource, KeySourceKind, OpenDeps } from './source.js';

const SOURCES: readonly KeySource[] = [pkcs11Source, sshAgentSource, pkcs12Source, fileSource];

export function classifyKeySource(value: string): KeySource {
  return SOURCES.find((s) => s.claims(value)) ?? fileSource;
}

/** The value names a file on disk (undefined: no). */
export function isKeyFile(value: string | undefined): value is string {
  return value !== undefined && classifyKeySource(value).isFile;
}

/** The value is a `pkcs11:` URI, in any case (RFC 7512 scheme names are case-insensitive): the pkcs11 source's own rule. */
export { isPkcs11Uri } from '../pkcs11/uri.js';

/** The value names something that is not a file (a token, an agent). */
export function isNonFileSource(value: string | undefined): boolean {
  return value !== undefined && !classifyKeySource(value).isFile;
}

export function displayKeySource(value: string): string {
  return classifyKeySource(value).display(value);
}

/** The source that opens the signer: the first of private key, certificate whose source opens itself; else files. */
export function keyHolder(options: Pick<KeyMaterialOptions, 'certificate' | 'privateKey'>): KeySource {
  for (const v of [options.privateKey, options.certificate]) {
    if (v === undefined) continue;
    const s = classifyKeySource(v);
    if (s.open) return s;
  }
  return classifyKeySource(options.certificate);
}

/** Settings that some sources list as theirs (`pkcs11_lib`, `private_key_password_file`…). */
export function sourceSettings(): ReadonlySet<string> {
  return new Set(SOURCES.flatMap((s) => s.settings));
}

/**
 * Why `setting` does not apply beside this certificate and key, or undefined when it does (or belongs
 * to no source). It applies when the source holding the key lists it, or a token holding the
 * certificate does.
 */
export function settingProblem(setting: string, options: Pick<KeyMaterialOptions, 'certificate' | 'privateKey'>, label = setting): { message: string; hint: string } | undefined {
  // Plain files first: "encrypted PEM or PKCS#12 keys".
  const owners = [fileSource, ...SOURCES.filter((s) => s !== fileSource)].filter((s) => s.settings.includes(setting));
  if (owners.length === 0) return undefined;
  // Who holds the key: the private_key's source, or the certificate's when it carries its key.
  const holder = classifyKeySource(options.privateKey ?? options.certificate);
  const cert = classifyKeySource(options.certificate);
  const users = cert.isFile ? [holder] : [holder, cert];
  if (users.some((s) => s.settings.includes(setting))) return undefined;
  if (owners.every((s) => !s.isFile)) {
    return {
      message: `${label} applies only to ${owners.map((s) => s.plural).join(' or ')}, and neither certificate nor private_key is one`,
      hint: `remove ${label}, or write ${setting}: null in a profile that uses key files`,
    };
  }
  return {
    message: `${label} applies to ${owners.map((s) => s.plural).join(' or ')} keys, not to ${holder.keyNoun}`,
    hint: holder.settingsHint ?? `remove ${label}`,
  };
}

/** Every source but plain files, for the "applies only to …" messages. */
export function sourceKinds(): readonly KeySource[] {
  return SOURCES;
}
