/**
 * The current signer of one key-material spec, shared by every profile that uses the same
 * certificate and key. Rotation reloads it: a new pair that loads and passes every check (key
 * matches, certificate in date, chain valid) replaces the old one; anything else keeps the old pair
 * and says why. PKCS#11 signers keep their token session across refreshes.
 */
import { createHash } from 'node:crypto';
import { toAgentError, type AgentError } from '../errors.js';
import type { KeyMaterialOptions } from '../keys/options.js';
import type { Signer } from '../keys/signer.js';
import type { Log } from '../log/logger.js';

export type LoadSigner = (key: KeyMaterialOptions) => Promise<Signer>;

export type ReloadResult = 'switched' | 'unchanged' | 'kept-old' | 'loaded';

export interface ReloadOptions {
  /** What noticed the change, for the rotation log line: `event` (the watcher) or `poll` (the interval check). */
  trigger?: string;
  /** Do not log a refused pair: the caller waits for the pair to agree and warns if it never does. */
  quiet?: boolean;
}

/** Stable identity of a key-material spec (what makes two profiles share a signer). */
export function keyId(key: KeyMaterialOptions): string {
  return createHash('sha256').update(JSON.stringify(key, Object.keys(key).sort())).digest('hex').slice(0, 16);
}

function fingerprint(s: Signer): string {
  return [s.certificate.fingerprint256, ...s.chain.map((c) => c.fingerprint256)].join('|');
}

export class SignerSource {
  private signer: Signer | undefined;
  private loading: Promise<Signer> | undefined;
  lastLoadError: AgentError | undefined;
  /** Why the last reload kept the old pair. */
  lastReloadError: AgentError | undefined;

  constructor(
    readonly key: KeyMaterialOptions,
    private readonly load: LoadSigner,
    private readonly log: Log,
  ) {}

  /** The signer in use; loads it on first use (errors propagate to the job that asked). */
  async get(): Promise<Signer> {
    if (this.signer) return this.signer;
    if (!this.loading) {
      this.loading = this.load(this.key).then(
        (s) => {
          this.signer = s;
          this.lastLoadError = undefined;
          this.loading = undefined;
          return s;
        },
        (e: unknown) => {
          this.loading = undefined;
          this.lastLoadError = toAgentError(e, 'KEY_INVALID');
          throw this.lastLoadError;
        },
      );
    }
    return this.loading;
  }

  /** The loaded signer, if any, without loading. */
  peek(): Signer | undefined {
    return this.signer;
  }

  /** Re-reads the files after a change. */
  async reload(o: ReloadOptions = {}): Promise<ReloadResult> {
    let next: Signer;
    try {
      next = await this.load(this.key);
    } catch (e) {
      const err = toAgentError(e, 'KEY_INVALID');
      this.lastReloadError = err;
      if (!this.signer) {
        this.lastLoadError = err;
        if (o.quiet) return 'kept-old';
        this.log.warn('certificate or key changed but still cannot be used', { certificate: this.key.certificate, error: err.describe() });
        return 'kept-old';
      }
      if (o.quiet) return 'kept-old';
      this.log.warn('certificate or key changed but the new pair cannot be used; keeping the previous one', {
        certificate: this.key.certificate,
        error: err.describe(),
      });
      return 'kept-old';
    }
    const old = this.signer;
    this.lastLoadError = undefined;
    this.lastReloadError = undefined;
    if (old && fingerprint(old) === fingerprint(next)) {
      await next.close().catch(() => {});
      return 'unchanged';
    }
    this.signer = next;
    if (old) {
      this.log.info('rotated certificate picked up', {
        certificate: this.key.certificate,
        ...(o.trigger && { trigger: o.trigger }),
        old_serial: old.certificate.serialNumber,
        new_serial: next.certificate.serialNumber,
        not_after: new Date(next.certificate.validTo).toISOString(),
      });
      await old.close().catch(() => {});
      return 'switched';
    }
    return 'loaded';
  }

  async close(): Promise<void> {
    const s = this.signer;
    this.signer = undefined;
    await s?.close().catch(() => {});
  }
}

