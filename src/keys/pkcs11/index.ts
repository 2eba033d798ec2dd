/**
 * The PKCS#11 key source: the public face of src/keys/pkcs11/. Nothing here loads the native
 * binding; it is imported the first time a module is opened.
 */
export { openPkcs11Signer, type Pkcs11SignerDeps } from './signer.js';
export { Pkcs11Registry, type Pkcs11RegistryOptions } from './registry.js';
export { isPkcs11Uri, parsePkcs11Uri, formatPkcs11Uri, redact, type Pkcs11Uri } from './uri.js';
export { listPkcs11, listPemFile, type TokenListing, type FileListing } from './inventory.js';
export { resolveModulePath, P11_KIT_PROXY_PATHS } from './library.js';
