/**
 * The official helper's TPM inputs — a persistent key handle (`handle:0x81000001`) and a TSS2 key
 * file (`-----BEGIN TSS2 PRIVATE KEY-----`) — which this agent does not read. They are recognised
 * here so that the schedule, the key loader and `import` all say so plainly, with the route that
 * works instead: the TPM through tpm2-pkcs11 and a pkcs11: URI (docs/tpm.md).
 */

export const TPM_ROUTE_HINT = 'put the key on a tpm2-pkcs11 token and name it with a pkcs11: URI; see docs/tpm.md';

/** The PEM label of a TSS2 key file. */
export const TSS2_LABEL = 'TSS2 PRIVATE KEY';

export function isTpmHandle(value: string | undefined): value is string {
  return value !== undefined && /^handle:/i.test(value);
}

/** The handle as written when it has the usual shape, else a neutral stand-in (never an arbitrary value). */
export function showTpmHandle(value: string): string {
  return /^handle:(0x)?[0-9a-f]{1,16}$/i.test(value) ? value : 'handle:…';
}
