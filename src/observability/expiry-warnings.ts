/**
 * Certificate expiry warnings in the log, before anything breaks: when a profile's certificate, or a
 * CA certificate sent with it, comes within a threshold of its not-after (default 30, 7 and 1 days;
 * `certificate_expiry_warnings:`), one warning per threshold crossed per certificate — not one per
 * refresh — naming every profile that uses it; an error once when it has expired. And once per
 * profile and certificate, when the requested session would run past the certificate's not-after:
 * AWS caps the session at the certificate's expiry, so the credentials will not last as asked.
 * Time comes from the injected Clock; `check()` is called on every agent change and periodically.
 */
import type { ProfileStatus } from '../agent/agent.js';
import type { Clock } from '../time/clock.js';
import { formatDuration } from '../time/duration.js';
import type { Log } from '../log/logger.js';

const DAY_S = 86_400;
/** Entries for certificates that expired this long ago are forgotten. */
const FORGET_AFTER_MS = 30 * DAY_S * 1000;

export interface ExpiryCheckInput {
  profile: string;
  certificate: ProfileStatus['certificate'];
  /** The session_duration asked for, seconds. */
  sessionSeconds?: number;
}

export interface ExpiryWarningOptions {
  clock: Clock;
  log: Log;
  /** Thresholds in seconds, any order; [] for none. */
  thresholdsSeconds: readonly number[];
}

interface Seen {
  notAfter: number;
  /** The smallest threshold already warned about; 0 once the expiry was reported. */
  level: number;
}

interface CertificateUse {
  key: string;
  kind: 'certificate' | 'CA certificate';
  notAfter: number;
  subject: string;
  path?: string;
  serial?: string;
  profiles: string[];
}

/** `30d`, `36h`. */
export function formatThreshold(seconds: number): string {
  return seconds % DAY_S === 0 ? `${seconds / DAY_S}d` : formatDuration(seconds);
}

function formatLeft(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s >= 2 * DAY_S) return `${Math.floor(s / DAY_S)} days`;
  return formatDuration(s - (s % 60) || s);
}

export class CertificateExpiryWarnings {
  private thresholds: number[];
  private readonly seen = new Map<string, Seen>();
  private readonly sessionWarned = new Map<string, number>();

  constructor(private readonly o: ExpiryWarningOptions) {
    this.thresholds = [...o.thresholdsSeconds].sort((a, b) => a - b);
  }

  /** A reloaded schedule's thresholds; certificates already warned about keep their level. */
  setThresholds(seconds: readonly number[]): void {
    this.thresholds = [...seconds].sort((a, b) => a - b);
  }

  check(inputs: readonly ExpiryCheckInput[]): void {
    const now = this.o.clock.now();
    for (const use of this.certificates(inputs)) this.checkCertificate(use, now);
    for (const input of inputs) this.checkSession(input, now);
    for (const [key, s] of this.seen) if (s.notAfter < now - FORGET_AFTER_MS) this.seen.delete(key);
    for (const [key, notAfter] of this.sessionWarned) if (notAfter < now - FORGET_AFTER_MS) this.sessionWarned.delete(key);
  }

  private certificates(inputs: readonly ExpiryCheckInput[]): CertificateUse[] {
    const byKey = new Map<string, CertificateUse>();
    // A Set beside each list: 1000 profiles sharing one certificate made `includes` quadratic,
    // and this runs with every state write (once a second during a refresh burst).
    const members = new Map<string, Set<string>>();
    const add = (use: Omit<CertificateUse, 'profiles'>, profile: string) => {
      const known = byKey.get(use.key);
      if (known) {
        const names = members.get(use.key)!;
        if (!names.has(profile)) {
          names.add(profile);
          known.profiles.push(profile);
        }
      } else {
        byKey.set(use.key, { ...use, profiles: [profile] });
        members.set(use.key, new Set([profile]));
      }
    };
    for (const { profile, certificate: c } of inputs) {
      if (!c?.notAfter) continue;
      const notAfter = Date.parse(c.notAfter);
      add(
        {
          key: `leaf|${c.serial ?? c.path}|${c.subject ?? ''}|${notAfter}`,
          kind: 'certificate',
          notAfter,
          subject: c.subject ?? '',
          path: c.path,
          ...(c.serial !== undefined && { serial: c.serial }),
        },
        profile,
      );
      for (const x of c.chain ?? []) {
        const t = Date.parse(x.notAfter);
        add({ key: `ca|${x.subject}|${t}`, kind: 'CA certificate', notAfter: t, subject: x.subject }, profile);
      }
    }
    return [...byKey.values()];
  }

  private checkCertificate(use: CertificateUse, now: number): void {
    const left = use.notAfter - now;
    const level = left <= 0 ? 0 : this.thresholds.find((t) => left <= t * 1000);
    if (level === undefined) return;
    const prior = this.seen.get(use.key);
    if (prior && prior.level <= level) return;
    this.seen.set(use.key, { notAfter: use.notAfter, level });
    const name = use.kind === 'certificate' ? `certificate ${use.path}` : `CA certificate "${use.subject}"`;
    const who = use.profiles.length === 1 ? `profile "${use.profiles[0]}"` : `profiles ${use.profiles.map((p) => `"${p}"`).join(', ')}`;
    const notAfter = new Date(use.notAfter).toISOString();
    const meta = {
      profiles: use.profiles,
      certificate: use.path ?? use.subject,
      subject: use.subject,
      ...(use.serial !== undefined && { serial: use.serial }),
      not_after: notAfter,
      days_left: Math.floor(left / (DAY_S * 1000)),
    };
    const renew = use.kind === 'certificate' ? 'renew it and replace the file (the agent picks up the new one at once)' : 'renew the CA certificate and the chain file';
    if (level === 0) {
      this.o.log.error(`${name} of ${who} expired at ${notAfter}: Roles Anywhere refuses it — ${renew}`, meta);
    } else {
      this.o.log.warn(`${name} of ${who} expires at ${notAfter}, in ${formatLeft(left)} (warning at ${formatThreshold(level)}) — ${renew}`, { ...meta, threshold: formatThreshold(level) });
    }
  }

  private checkSession(input: ExpiryCheckInput, now: number): void {
    const c = input.certificate;
    if (!c?.notAfter || !input.sessionSeconds) return;
    const notAfter = Date.parse(c.notAfter);
    if (notAfter <= now || now + input.sessionSeconds * 1000 <= notAfter) return;
    const key = `${input.profile}|${c.serial ?? c.path}|${notAfter}|${input.sessionSeconds}`;
    if (this.sessionWarned.has(key)) return;
    this.sessionWarned.set(key, notAfter);
    const at = new Date(notAfter).toISOString();
    this.o.log.warn(
      `profile "${input.profile}": the requested session of ${formatDuration(input.sessionSeconds)} runs past the certificate's not-after ${at}; ` +
        `AWS caps the session at the certificate's expiry, so credentials issued now last only ${formatLeft(notAfter - now)} — renew the certificate ${c.path}`,
      { profile: input.profile, certificate: c.path, not_after: at, session_duration: formatDuration(input.sessionSeconds) },
    );
  }
}
