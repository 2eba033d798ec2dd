/**
 * What every key source declares about itself. A source owns the strings it claims (its rule), whether
 * those strings are files (then schedules resolve them against their directory, the agent watches them
 * for rotation and caches fingerprint them), how they are shown without secrets, and how a signer is
 * opened from them. Keep this module and the source files light: heavy parts load inside `open`.
 */
import type { KeyMaterialOptions } from '../options.js';
import type { Signer } from '../signer.js';
import type { Clock } from '../../time/clock.js';
import type { Pkcs11Registry } from '../pkcs11/index.js';

export type KeySourceKind = 'pkcs11' | 'ssh-agent' | 'pkcs12' | 'file';

export interface OpenDeps {
  env: NodeJS.ProcessEnv;
  clock: Clock;
  pkcs11Registry?: Pkcs11Registry;
  logger?: (level: 'warn' | 'info', message: string) => void;
}

export interface KeySource {
  readonly kind: KeySourceKind;
  /** How the source is named in messages ("a pkcs11: URI"). */
  readonly noun: string;
  /** Whether this certificate or private_key string names this source (case rules included). */
  claims(value: string): boolean;
  /** The string is a path on disk: resolved against the schedule's directory, watched, fingerprinted. */
  readonly isFile: boolean;
  /** May this source hold the certificate itself (not only the key)? */
  readonly holdsCertificate: boolean;
  /**
   * The profile settings that belong to some sources only, and belong to this one (`pkcs11_lib`,
   * `private_key_password_file`…). The builder refuses such a setting unless the source holding the
   * key (or a token holding the certificate) lists it, naming the setting and this source.
   */
  readonly settings: readonly string[];
  /** How this source is listed in "X applies only to …" (`pkcs11: URIs`, `encrypted PEM`). */
  readonly plural: string;
  /** A key held by this source, in "… not to a key on a PKCS#11 token". */
  readonly keyNoun: string;
  /** What to do instead, when a setting of another source is given beside a key this source holds. */
  readonly settingsHint?: string;
  /** The string as it may be printed or stored (no PIN). */
  display(value: string): string;
  /** Opens the signer when this source holds the key; absent: the file loader in ../load.ts reads it. */
  open?(options: KeyMaterialOptions, deps: OpenDeps): Promise<Signer>;
  /**
   * For `list-certs TARGET [CERT…]`: what the source holds and which of the given certificate files
   * each key matches. Absent: list-certs reads TARGET itself (a token or a PEM file).
   */
  inventory?(target: string, certificates: readonly string[], env: NodeJS.ProcessEnv): Promise<Inventory>;
}

export interface Inventory {
  /** For --json. */
  listing: unknown;
  /** For people. */
  text: string;
}
