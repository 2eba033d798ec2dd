/**
 * The heavy half of `fromRolesAnywhere`, loaded on the provider's first call: validates the options
 * with the schedule's own readers, keeps one checked Signer (re-read when a key-material file
 * changed: path, inode, size, mtime), one keep-alive transport, and makes CreateSession calls.
 */
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { agentProfile } from '../config/profile/agent-profile.js';
import { formatIssue, type ConfigIssue } from '../config/issues.js';
import { ConfigError } from '../config/issues.js';
import { resolveProfileSettings } from '../config/profile/resolve.js';
import { AgentError } from '../errors.js';
import { loadSigner } from '../keys/load.js';
import { isKeyFile } from '../keys/sources/index.js';
import type { KeyMaterialOptions } from '../keys/options.js';
import type { Signer } from '../keys/signer.js';
import { createSession } from '../rolesanywhere/client.js';
import type { SessionResult } from '../rolesanywhere/reply.js';
import { makeTransport, type Transport } from '../rolesanywhere/transport.js';
import type { SessionSpec } from '../agent/job.js';
import type { Clock } from '../time/clock.js';
import { AGENT_ONLY_KEYS, optionPath, toScheduleSettings, type FromRolesAnywhereOptions } from './options.js';

export interface SessionDeps {
  clock: Clock;
  env: Readonly<Record<string, string | undefined>>;
  /** Replaces the HTTPS transport (tests). */
  transport?: Transport;
  debug?: (message: string) => void;
  warn?: (message: string) => void;
}

/** The options' problems in their own spelling (`roleArn: …`), as one CONFIG_INVALID error. */
function optionsError(issues: readonly ConfigIssue[], cause: unknown): AgentError {
  const lines = issues.map((i) => `  ${formatIssue({ ...i, path: optionPath(i.path) || 'options' })}`);
  const n = issues.length;
  return new AgentError('CONFIG_INVALID', `fromRolesAnywhere: ${n} problem${n === 1 ? '' : 's'} with the options:\n${lines.join('\n')}`, {
    hint: 'fix each option listed; the names and values are those of the schedule, in camelCase (see the README)',
    cause,
  });
}

/** What a file-backed key source is made of, so a changed file means a new Signer. */
function materialFiles(key: KeyMaterialOptions): string[] {
  const files = [key.certificate, key.privateKey, key.intermediates, key.password?.file, key.pin?.file];
  return files.filter((f): f is string => isKeyFile(f));
}

function fingerprint(files: string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f, { bigint: true });
        return `${f}:${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
      } catch (e) {
        return `${f}:${(e as NodeJS.ErrnoException).code ?? 'error'}`;
      }
    })
    .join('|');
}

export class LibrarySession {
  private signer: { signer: Signer; fingerprint: string } | undefined;
  private transport: Transport | undefined;
  private readonly session: SessionSpec;
  private readonly key: KeyMaterialOptions;
  private readonly files: string[];
  readonly marginSeconds: number;

  constructor(
    options: FromRolesAnywhereOptions,
    private readonly deps: SessionDeps,
  ) {
    const agentOnly = Object.keys(options).filter((k) => AGENT_ONLY_KEYS.has(k));
    if (agentOnly.length) {
      throw optionsError(agentOnly.map((k) => ({ path: k, message: `not an option of the provider: ${AGENT_ONLY_KEYS.get(k)}`, hint: `remove ${k}` })), undefined);
    }
    let profile;
    try {
      profile = resolveProfileSettings('fromRolesAnywhere', toScheduleSettings(options), {
        env: deps.env,
        home: homedir(),
        baseDir: process.cwd(),
        sourceName: 'fromRolesAnywhere options',
      });
    } catch (e) {
      if (e instanceof ConfigError) throw optionsError(e.issues, e);
      throw e;
    }
    if (profile.refresh.kind !== 'before_expiry') {
      throw optionsError([{ path: 'refresh.cron', message: 'a cron schedule has no meaning for a credential provider', hint: 'use refresh: { beforeExpiry: "5m" }' }], undefined);
    }
    const spec = agentProfile(profile);
    this.session = spec.session;
    this.key = spec.key;
    this.files = materialFiles(spec.key);
    this.marginSeconds = profile.refresh.marginSeconds;
    if (deps.transport) this.transport = deps.transport;
    else {
      if (spec.transport.noVerifySsl) deps.warn?.('fromRolesAnywhere: TLS verification is off (noVerifySsl): use it for tests only');
      this.transport = makeTransport(spec.transport, deps.env as NodeJS.ProcessEnv);
    }
  }

  /** The current signer, re-read when one of its files changed since it was loaded. */
  private async currentSigner(): Promise<Signer> {
    const now = fingerprint(this.files);
    if (this.signer && this.signer.fingerprint === now) return this.signer.signer;
    const signer = await loadSigner(this.key, { env: this.deps.env as NodeJS.ProcessEnv, clock: this.deps.clock });
    const old = this.signer;
    this.signer = { signer, fingerprint: now };
    if (old) {
      this.deps.debug?.(`fromRolesAnywhere: key material changed, using ${signer.description}`);
      await old.signer.close().catch(() => {});
    }
    return signer;
  }

  async fetch(): Promise<SessionResult> {
    const signer = await this.currentSigner();
    return createSession(
      signer,
      { ...this.session, env: this.deps.env as NodeJS.ProcessEnv },
      { transport: this.transport!, clock: this.deps.clock, ...(this.deps.debug ? { debug: this.deps.debug } : {}) },
    );
  }

  async close(): Promise<void> {
    await this.signer?.signer.close().catch(() => {});
    this.signer = undefined;
    if (!this.deps.transport) await this.transport?.close().catch(() => {});
  }
}
