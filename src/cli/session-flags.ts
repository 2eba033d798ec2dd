/**
 * The flags `credential-process` and `update` share, compatible with the official helper
 * (`aws_signing_helper`), plus ours. They are declared in the settings catalogue
 * (src/config/profile/catalogue.ts, the table and --help in src/config/profile/flag-table.ts) and resolved like a
 * schedule's profile by src/config/profile/flags.ts, which also turns the result into the key-material,
 * session and transport options of one call. Secrets may come from files or the environment so they
 * never have to sit in argv.
 */
export {
  flagsAgentProfile,
  sessionSettings,
  SESSION_FLAGS,
  SESSION_FLAGS_HELP,
  type SessionFlagValues,
  type SessionSettings,
} from '../config/profile/flags.js';
