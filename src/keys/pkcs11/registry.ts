/**
 * The explicit owner of every loaded PKCS#11 module and open token session, so several signers
 * (profiles) on one token share one session and one login. Nothing here is a module-level global:
 * the agent creates one registry and passes it to each openPkcs11Signer; a signer opened without
 * one gets a registry of its own. Modules and tokens are reference-counted: the last release of a
 * token logs out and closes its session, the last of a module finalises and unloads it.
 */
import { realpathSync } from 'node:fs';
import { AgentError } from '../../errors.js';
import { systemClock, type Clock } from '../../time/clock.js';
import { importPkcs11Js, pkcs11JsMissing, type Pkcs11Js } from './library.js';
import { Pkcs11Module, tokenName, type TokenSlot } from './module.js';
import { DEFAULT_REOPEN_BACKOFF, TokenSession, type Backoff } from './token.js';
import { redact, tokenMatches, type Pkcs11Uri } from './uri.js';

export interface Pkcs11RegistryOptions {
  /** Loads the pkcs11js binding; tests wrap the real one to count or break calls. */
  load?: () => Promise<Pkcs11Js>;
  clock?: Clock;
  reopenBackoff?: Backoff;
}

interface Held<T> {
  refs: number;
  value: Promise<T>;
}

function moduleKey(path: string): string {
  try {
    // Two paths to one .so share one library state: one entry, or the second C_Initialize clashes.
    return realpathSync(path);
  } catch {
    return path;
  }
}

function tokenKey(m: Pkcs11Module, t: TokenSlot): string {
  return JSON.stringify([moduleKey(m.path), t.label, t.serial, t.manufacturer, t.model]);
}

export class Pkcs11Registry {
  private readonly modules = new Map<string, Held<Pkcs11Module>>();
  private readonly tokens = new Map<string, { refs: number; session: TokenSession }>();
  private api: Promise<Pkcs11Js> | undefined;
  private readonly clock: Clock;
  private readonly backoff: Backoff;

  constructor(private readonly options: Pkcs11RegistryOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.backoff = options.reopenBackoff ?? DEFAULT_REOPEN_BACKOFF;
  }

  private loadApi(): Promise<Pkcs11Js> {
    if (!this.api) {
      const load = this.options.load ?? importPkcs11Js;
      this.api = load().catch((e: unknown) => {
        this.api = undefined;
        throw e instanceof AgentError ? e : pkcs11JsMissing(e);
      });
    }
    return this.api;
  }

  async acquireModule(path: string): Promise<Pkcs11Module> {
    const key = moduleKey(path);
    let held = this.modules.get(key);
    if (!held) {
      const value = this.loadApi().then((api) => Pkcs11Module.open(api, path));
      held = { refs: 0, value };
      this.modules.set(key, held);
      const mine = held;
      value.catch(() => {
        if (this.modules.get(key) === mine) this.modules.delete(key);
      });
    }
    held.refs++;
    return held.value;
  }

  releaseModule(m: Pkcs11Module): void {
    const key = moduleKey(m.path);
    const held = this.modules.get(key);
    if (!held) return;
    held.refs--;
    if (held.refs <= 0) {
      this.modules.delete(key);
      m.finalize();
    }
  }

  /**
   * The one token of `module` that `uri` selects. None → a retryable error listing the tokens
   * present (it may be inserted later); several → an error: a PIN is never sent to a token the
   * user did not single out.
   */
  selectToken(module: Pkcs11Module, uri: Pkcs11Uri, uriText: string): TokenSlot {
    let present: TokenSlot[];
    try {
      present = module.tokens();
    } catch (e) {
      throw module.failure('C_GetSlotList', e);
    }
    const matches = present.filter((t) => tokenMatches(uri, t));
    const list = present.length ? present.map((t) => tokenName(t)).join(', ') : 'none';
    if (matches.length === 0) {
      throw new AgentError('PKCS11', `no token matches ${redact(uriText)} in ${module.path}; tokens present: ${list}`, {
        retryable: true,
        hint: 'insert the token or fix token=/serial= in the URI; `rolesanywhere-agent list-certs --pkcs11-lib …` shows what the module sees',
      });
    }
    if (matches.length > 1) {
      throw new AgentError('PKCS11', `${matches.length} tokens match ${redact(uriText)} in ${module.path}: ${matches.map((t) => tokenName(t)).join(', ')}`, {
        hint: 'add token= (and serial=) to the URI so it names one token',
      });
    }
    return matches[0]!;
  }

  /** The shared session of one token; `module` must have been acquired by the caller. */
  acquireToken(module: Pkcs11Module, slot: TokenSlot): TokenSession {
    const key = tokenKey(module, slot);
    let held = this.tokens.get(key);
    if (!held) {
      held = { refs: 0, session: new TokenSession(module, slot, this.clock, this.backoff) };
      this.tokens.set(key, held);
      // Each token holds its module; the caller releases its own module reference itself.
      const m = this.modules.get(moduleKey(module.path));
      if (m) m.refs++;
    }
    held.refs++;
    return held.session;
  }

  async releaseToken(token: TokenSession): Promise<void> {
    // The identity (label, serial, …) survives a re-insertion into another slot, so the key holds.
    const key = tokenKey(token.module, token.facts);
    const held = this.tokens.get(key);
    if (!held || held.session !== token) return;
    held.refs--;
    if (held.refs > 0) return;
    this.tokens.delete(key);
    try {
      await token.close();
    } finally {
      this.releaseModule(token.module);
    }
  }
}
