/**
 * What `run`, `once`, `validate` and `status` share: loading the schedule (every problem reported
 * at once, with its line), the logger with its redactor, and the agent's real dependencies.
 */
import { homedir } from 'node:os';
import { AgentError } from '../errors.js';
import { Agent, type AgentConfig, type AgentEvents } from '../agent/agent.js';
import { adoptableCredentials, changedIdentities } from '../agent/state-file.js';
import { ConfigError, loadSchedule, type Schedule, type ScheduleOverrides } from '../config/index.js';
import { CredentialsWriter, toTrust } from '../credentials-file/index.js';
import { isPkcs11Uri, loadSigner } from '../keys/load.js';
import type { Pkcs11Registry } from '../keys/pkcs11/index.js';
import { createLogger, type Log, type LogLevel } from '../log/logger.js';
import { Redactor } from '../log/redact.js';
import { systemScheduler } from '../time/scheduler.js';
import { EXIT, type CommandIO } from './io.js';

/** How every command reads a schedule, at start and (run) at each reload: one place, so both see the same overrides. */
export function scheduleLoadOptions(io: Pick<CommandIO, 'env'>, overrides: ScheduleOverrides): { env: NodeJS.ProcessEnv; home: string; overrides: ScheduleOverrides } {
  return { env: io.env, home: io.env['HOME'] ?? homedir(), overrides };
}

/** Loads and validates the schedule; prints every issue and returns an exit code on failure. */
export async function loadScheduleOrReport(
  path: string | undefined,
  io: CommandIO,
  command: string,
  overrides: ScheduleOverrides = {},
): Promise<Schedule | number> {
  if (!path) {
    io.stderr.write(`rolesanywhere-agent ${command}: --config FILE is required (a YAML schedule; see config/agent.example.yaml)\n`);
    return EXIT.BAD_INPUT;
  }
  try {
    return await loadSchedule(path, scheduleLoadOptions(io, overrides));
  } catch (e) {
    if (e instanceof ConfigError) {
      // The message already lists every issue with its path and line.
      io.stderr.write(`rolesanywhere-agent ${command}: ${e.message}\n`);
      return EXIT.BAD_INPUT;
    }
    if (e instanceof AgentError) {
      io.stderr.write(`rolesanywhere-agent ${command}: ${e.describe()}\n`);
      return EXIT.BAD_INPUT;
    }
    throw e;
  }
}

/** Said at start when the schedule accepts a directory other users can write (credentials_dir_shared). */
export function sharedDirWarning(credentialsFile: string): string {
  return `credentials_dir_shared: true — the directory of ${credentialsFile} may be writable by other users; the agent still refuses files and links they own, but they can delete or replace the file`;
}

export function makeLog(io: CommandIO, level: LogLevel, redactor: Redactor, json?: boolean) {
  return createLogger({ level, human: json === undefined ? io.isTTY : !json, redactor, stream: io.stderr });
}

export interface AgentOptions {
  watch: boolean;
  unrefTimers: boolean;
  onChange?: () => void;
  /** CreateSession outcomes (the metrics' counters). */
  events?: AgentEvents;
}

export function makeAgent(io: CommandIO, log: Log, redactor: Redactor, o: AgentOptions): Agent {
  // One registry per agent: every profile on a token signs through one session. Made on the first
  // token key, so an agent of file keys never loads the PKCS#11 source.
  let registry: Promise<Pkcs11Registry> | undefined;
  const pkcs11Registry = () => (registry ??= import('../keys/pkcs11/registry.js').then((m) => new m.Pkcs11Registry({ clock: io.clock })));
  return new Agent({
    clock: io.clock,
    scheduler: systemScheduler,
    log,
    env: io.env,
    redactor,
    loadSigner: async (key) => {
      if (key.password?.value) redactor.add(key.password.value);
      if (key.pin?.value) redactor.add(key.pin.value);
      const onToken = isPkcs11Uri(key.certificate) || isPkcs11Uri(key.privateKey);
      return loadSigner(key, { env: io.env, clock: io.clock, ...(onToken ? { pkcs11Registry: await pkcs11Registry() } : {}), logger: (level, m) => log[level](m) });
    },
    makeWriter: (path, trust) => {
      if (trust?.sharedDir) log.warn(sharedDirWarning(path));
      return new CredentialsWriter(path, { clock: io.clock, onWarning: (m) => log.warn(m), ...(trust && { trust }) });
    },
    watch: o.watch,
    unrefTimers: o.unrefTimers,
    existing: async (config: AgentConfig) => {
      // An unknown credentials_file_owner stops the start, before any CreateSession.
      await toTrust(config.credentialsTrust);
      return adoptableCredentials(config);
    },
    changedIdentities: (config: AgentConfig) => changedIdentities(config),
    ...(o.onChange ? { onChange: o.onChange } : {}),
    ...(o.events ? { events: o.events } : {}),
  });
}
