/**
 * The credential endpoints of `run` (schedule `serve:`): the ECS-style one for any profile with its
 * token, the IMDSv2-style one for one profile. Both read the agent's in-memory credentials — the
 * ones the file is written from — and never start a CreateSession. `run` starts them after the
 * agent, tells them about reloads (tokens for added profiles, none for removed ones) and closes
 * them first on shutdown.
 */
import type { ServeSettings } from '../config/serve.js';
import type { Log } from '../log/logger.js';
import type { Clock } from '../time/clock.js';
import { ecsHandler } from './ecs.js';
import { imdsHandler } from './imds.js';
import { startListener, type BoundListener } from './listener.js';
import type { CountRequest } from './reply.js';
import { CredentialSource, type CredentialCache } from './source.js';
import { EcsTokens } from './tokens.js';

export type { CountRequest, Endpoint, Outcome } from './reply.js';
export type { CredentialCache } from './source.js';

export interface ServeDeps {
  cache: CredentialCache;
  clock: Clock;
  log: Log;
  /** The schedule's profile names now. */
  profiles(): readonly string[];
  accountOf(profile: string): string | undefined;
  /** The region a profile's credentials are for, answered at the IMDS placement/region path. */
  regionOf?(profile: string): string | undefined;
  redact?(text: string): string;
  /** Told each ECS token, so the logger masks it should one ever reach a log line. */
  secret?(value: string): void;
  count?: CountRequest;
  random?: (n: number) => Buffer;
}

/** What `status` shows and the state file records. */
export interface ServedListener {
  endpoint: 'ecs' | 'imds';
  address: string;
  tokenDir?: string;
  profile?: string;
}

export class CredentialEndpoints {
  private constructor(
    private settings: ServeSettings,
    private readonly deps: ServeDeps,
    private readonly tokens: EcsTokens | undefined,
    private readonly ecs: BoundListener | undefined,
    private readonly imds: BoundListener | undefined,
  ) {}

  static async start(settings: ServeSettings, deps: ServeDeps): Promise<CredentialEndpoints> {
    const source = new CredentialSource({ cache: deps.cache, clock: deps.clock, accountOf: deps.accountOf, ...(deps.redact && { redact: deps.redact }) });
    let tokens: EcsTokens | undefined;
    let ecs: BoundListener | undefined;
    let imds: BoundListener | undefined;
    // `settings` is read through the instance so a reload can switch the IMDS profile.
    let self: CredentialEndpoints | undefined;
    try {
      if (settings.ecs) {
        tokens = new EcsTokens(settings.ecs.tokenDir, deps.random, deps.secret);
        await tokens.sync(deps.profiles());
        ecs = await startListener('serve.ecs', settings.ecs, ecsHandler({ source, tokens, ...(deps.count && { count: deps.count }) }));
      }
      if (settings.imds) {
        const first = settings.imds.profile;
        imds = await startListener(
          'serve.imds',
          settings.imds,
          imdsHandler({
            source,
            clock: deps.clock,
            profile: () => self?.settings.imds?.profile ?? first,
            ...(deps.regionOf && { regionOf: deps.regionOf }),
            ...(deps.count && { count: deps.count }),
            ...(deps.random && { random: deps.random }),
          }),
        );
      }
    } catch (e) {
      await ecs?.close();
      await tokens?.removeFiles();
      throw e;
    }
    self = new CredentialEndpoints(settings, deps, tokens, ecs, imds);
    return self;
  }

  listeners(): ServedListener[] {
    const out: ServedListener[] = [];
    if (this.ecs && this.settings.ecs) out.push({ endpoint: 'ecs', address: this.ecs.address, tokenDir: this.settings.ecs.tokenDir });
    if (this.imds && this.settings.imds) out.push({ endpoint: 'imds', address: this.imds.address, profile: this.settings.imds.profile });
    return out;
  }

  /**
   * After a schedule reload: tokens for added profiles, none for removed ones, every token file
   * written again (one deleted by hand comes back), the IMDS profile switched. Listen addresses and
   * token_dir keep their values until a restart (the caller warns).
   */
  async reload(next: ServeSettings | undefined): Promise<void> {
    if (this.tokens) await this.tokens.sync(this.deps.profiles());
    if (next?.imds && this.settings.imds && next.imds.profile !== this.settings.imds.profile) {
      this.settings = { ...this.settings, imds: { ...this.settings.imds, profile: next.imds.profile } };
    }
    if (JSON.stringify(addresses(next)) !== JSON.stringify(addresses(this.settings))) {
      this.deps.log.warn('serve: listen addresses, tls or token_dir changed; they apply at the next restart', { running: addresses(this.settings), configured: addresses(next) });
    }
  }

  /** Stops listening and deletes the token files: the tokens die with this process anyway. */
  async close(): Promise<void> {
    await Promise.all([this.ecs?.close(), this.imds?.close()]);
    await this.tokens?.removeFiles();
  }
}

/** profiles(), accountOf() and regionOf() for ServeDeps, from whatever schedule is current (it changes on reload). */
export function scheduleLookups(
  current: () => { profiles: ReadonlyArray<{ name: string; roleArn: string; region?: string }> },
): Pick<ServeDeps, 'profiles' | 'accountOf' | 'regionOf'> {
  const cache = new WeakMap<object, Map<string, { account: string | undefined; region: string | undefined }>>();
  const byName = () => {
    const s = current();
    let m = cache.get(s);
    if (!m) cache.set(s, (m = new Map(s.profiles.map((p) => [p.name, { account: /^arn:[^:]+:iam::(\d{12}):/.exec(p.roleArn)?.[1], region: p.region }]))));
    return m;
  };
  return { profiles: () => [...byName().keys()], accountOf: (name) => byName().get(name)?.account, regionOf: (name) => byName().get(name)?.region };
}

function addresses(s: ServeSettings | undefined) {
  return { ecs: s?.ecs && [s.ecs.listen, s.ecs.tokenDir, s.ecs.tls], imds: s?.imds && [s.imds.listen, s.imds.tls] };
}
