/**
 * Where a signer's material comes from, as the CLI flags and the schedule both describe it.
 * `privateKey` absent with a `.p12`/`.pfx` certificate means a PKCS#12 bundle (the official
 * helper's convention); a `pkcs11:` URI in either field means a token.
 */
export interface PasswordSource {
  /** Given inline (e.g. `--pkcs8-password`, kept for compatibility). */
  value?: string;
  /** Read from this file (trailing newline trimmed). */
  file?: string;
  /** Read from this environment variable. */
  env?: string;
}

export interface KeyMaterialOptions {
  /** Certificate PEM/DER file, a PKCS#12 bundle, or a pkcs11: URI. */
  certificate: string;
  /** Private key file (PEM PKCS#1/PKCS#8/SEC1/encrypted PKCS#8) or a pkcs11: URI. */
  privateKey?: string;
  /** A PEM bundle of up to 5 intermediates. */
  intermediates?: string;
  /** Password for an encrypted PKCS#8 key or a PKCS#12 bundle. */
  password?: PasswordSource;
  /** PKCS#11 module path (only for pkcs11: URIs). */
  pkcs11Lib?: string;
  /** PKCS#11 PIN source other than the URI's own pin-source (only for pkcs11: URIs). */
  pin?: PasswordSource;
  /** Re-login before each signature (keys with CKA_ALWAYS_AUTHENTICATE). */
  reusePin?: boolean;
}
