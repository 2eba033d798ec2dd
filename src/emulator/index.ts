/**
 * The local CreateSession service (IAM Roles Anywhere emulator): strict signature, certificate and
 * policy checks with the real error shapes, fault injection, and a record of every request and of
 * every credential it issued. Used by the integration tests, the demo and offline dry runs.
 */
export { startEmulator, isLoopback, DEFAULT_HISTORY_LIMIT, type Emulator, type EmulatorOptions, type RecordedRequest } from './server.js';
export {
  emptyConfig,
  loadEmulatorConfig,
  quickConfig,
  quickConfigFromFiles,
  validateConfig,
  DEFAULT_PROFILE_DURATION_SECONDS,
  type EmulatorConfig,
  type TrustAnchorConfig,
  type ProfileConfig,
  type RoleConfig,
  type QuickSetup,
  type ConfigIssue,
} from './config.js';
export type { FaultControl, FaultSettings, FailSpec } from './faults.js';
export type { IssuedCredentials, CreateSessionResponse } from './credentials.js';
export type { ServiceError, RejectReason } from './service-error.js';
export { handleCreateSession, type ReceivedRequest, type Outcome } from './handler.js';
