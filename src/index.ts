/**
 * The library entry point (`import { fromRolesAnywhere } from 'rolesanywhere-agent'`). It loads no
 * CLI, logger, watcher, metrics or agent code; the signer and the HTTPS client load on first use.
 * Semver applies to what is exported here.
 */
export { fromRolesAnywhere, type RolesAnywhereCredentials, type RolesAnywhereProvider } from './library/from-roles-anywhere.js';
export type { FromRolesAnywhereOptions, RolesAnywhereLogger } from './library/options.js';
export { AgentError, type ErrorCode } from './errors.js';
