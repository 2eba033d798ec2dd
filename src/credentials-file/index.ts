/**
 * The credentials-file module: the pure profile edit and the readers, the atomic replace under the
 * writers' lock, and the batching writer the agent's jobs share. This is its public surface.
 */
export {
  editProfiles,
  verifyCandidate,
  validateProfileName,
  formatExpiration,
  ownValues,
  OWN_KEYS,
  STALE_KEYS,
  MAX_VALUE_LENGTH,
  checkChange,
  isRemoval,
  type ProfileUpdate,
  type ProfileRemoval,
  type ProfileChange,
  type OwnKey,
} from './edit.js';
export { profileNameProblem, PROFILE_NAME_PATTERN, DEFAULT_SECTION_HINT, type ProfileNameProblem } from './profile-name.js';
export { parseStrict, findIssues, readProfiles, readSections, readLikeJsSdk, type StrictFile, type StrictSection, type StrictKey, type Issue, type IssueKind } from './parse.js';
export { MAX_LINE_LENGTH } from './syntax.js';
export { checkCredentialsFile, readCredentialsText, replaceProfiles, MAX_FILE_BYTES, DEFAULT_MAX_ATTEMPTS, type ReplaceOptions, type ReplaceResult } from './replace.js';
export { resolveCredentialsPath } from './path.js';
export { acquireLock, lockPathFor, processAlive, FileLock, DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_LOCK_STALE_MS, type LockOptions, type LockOwner } from './lock.js';
export { CredentialsWriter, DEFAULT_BATCH_WINDOW_MS, type CredentialsWriterOptions, type Timers } from './writer.js';
export { nodeFs, type Fs, type FsFile, type FileStat } from './fs.js';
export { resolveTrust, toTrust, defaultTrust, walkTrusted, openTrusted, type Trust, type TrustPolicy } from './trust.js';
