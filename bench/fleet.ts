/**
 * Not a test: a fleet of agents sharing one account's CreateSession quota, simulated on a virtual
 * clock with no network. 10,000 hosts × 5 profiles; every profile uses the agent's real policy
 * function (src/time/policy.ts nextAttemptAt: refresh time with its jitter and spread, and the job's
 * backoff, with their defaults), the client's real in-call retries (client.ts callRetryDelay,
 * DEFAULT_RETRY), and each host's real TokenBucket (src/time/token-bucket.ts), slowed down on throttling as
 * the agent does. The service is a 10 requests/s account-wide token bucket: a request beyond it is
 * throttled (429) and counted all the same.
 *
 * Each scenario: every host starts with empty files within 60 s (a cold-start storm), runs 24 h, and at
 * hour 14 every host's agent restarts within 60 s (a restart storm: the profiles adopt the
 * credentials in their files, as Agent.start does, and refresh those already due).
 *
 *   node --import tsx bench/fleet.ts          (npm run bench:fleet)
 *   FLEET_HOSTS=1000 node --import tsx bench/fleet.ts
 */
import { loadavg } from 'node:os';
import { callRetryDelay, DEFAULT_RETRY } from '../src/rolesanywhere/client.js';
import { ManualClock } from '../src/time/clock.js';
import { nextAttemptAt, type AttemptOutcome } from '../src/time/policy.js';
import { defaultRefreshPolicy, type RefreshPolicy } from '../src/time/refresh.js';
import { TokenBucket } from '../src/time/token-bucket.js';
import { DEFAULT_RATE_LIMIT } from '../src/config/schedule.js';
import type { Scheduler } from '../src/time/scheduler.js';

const HOSTS = Number(process.env['FLEET_HOSTS'] ?? 10_000);
const PROFILES_PER_HOST = 5;
const QUOTA_PER_SECOND = 10;
const HOURS = 24;
const STORM_WINDOW_MS = 60_000;
const RESTART_AT_MS = 14 * 3600_000;

interface Scenario {
  name: string;
  policy: RefreshPolicy;
}

/** Seeded, so runs compare: mulberry32, with its state copyable (the scenarios fork one world). */
class Rng {
  constructor(private a: number) {
    this.a = a >>> 0;
  }
  readonly next = (): number => {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  copy(): Rng {
    return new Rng(this.a);
  }
}

/**
 * A binary min-heap of (time, profile, generation) events in three preallocated typed arrays: no
 * allocation per event and no boxed numbers (the simulation pops ~5 million events per scenario).
 */
class Events {
  private t: Float64Array;
  private p: Int32Array;
  private g: Uint32Array;
  size = 0;
  constructor(capacity: number) {
    this.t = new Float64Array(capacity);
    this.p = new Int32Array(capacity);
    this.g = new Uint32Array(capacity);
  }
  push(time: number, profile: number, gen: number): void {
    if (this.size === this.t.length) this.grow();
    const { t, p, g } = this;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = t[parent]!;
      if (pt <= time) break;
      t[i] = pt;
      p[i] = p[parent]!;
      g[i] = g[parent]!;
      i = parent;
    }
    t[i] = time;
    p[i] = profile;
    g[i] = gen;
  }
  /** Pops into `out`; returns false when empty. */
  pop(out: { time: number; profile: number; gen: number }): boolean {
    if (this.size === 0) return false;
    const { t, p, g } = this;
    out.time = t[0]!;
    out.profile = p[0]!;
    out.gen = g[0]!;
    const n = --this.size;
    if (n === 0) return true;
    const lt = t[n]!;
    const lp = p[n]!;
    const lg = g[n]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let ct = t[l]!;
      if (r < n) {
        const rt = t[r]!;
        if (rt < ct) {
          c = r;
          ct = rt;
        }
      }
      if (ct >= lt) break;
      t[i] = ct;
      p[i] = p[c]!;
      g[i] = g[c]!;
      i = c;
    }
    t[i] = lt;
    p[i] = lp;
    g[i] = lg;
    return true;
  }
  private grow(): void {
    const t = new Float64Array(this.t.length * 2);
    const p = new Int32Array(this.p.length * 2);
    const g = new Uint32Array(this.g.length * 2);
    t.set(this.t);
    p.set(this.p);
    g.set(this.g);
    this.t = t;
    this.p = p;
    this.g = g;
  }
}

/** The buckets never wait here (the simulation only calls tryTake), so no timer is ever set. */
const noScheduler: Scheduler = {
  setTimeout: () => {
    throw new Error('bench bug: a simulated bucket tried to set a timer');
  },
  clearTimeout: () => {},
};

interface Result {
  scenario: Scenario;
  requests: number;
  throttled: number;
  steadyPeak: number;
  steadyP99: number;
  steadyMean: number;
  maxSecond: number;
  coldDrainS: number;
  restartDrainS: number;
  restartCalls: number;
  throttledPerHour: number[];
  expiredProfiles: number;
  wallMs: number;
}

/** Everything a simulated fleet holds; copied when the scenarios fork after the shared cold start. */
interface World {
  clock: ManualClock;
  /** Retry jitter, start times, restart times. */
  random: Rng;
  buckets: TokenBucket[];
  serviceTokens: number;
  serviceLast: number;
  // Per profile: credentials (issuedAt/expiresAt; NaN = none), job failures, the client's attempt
  // number and first-attempt time within a call, a generation that cancels stale events, flags.
  issuedAt: Float64Array;
  expiresAt: Float64Array;
  failures: Uint32Array;
  attempt: Uint8Array;
  callStart: Float64Array;
  gen: Uint32Array;
  expired: Uint8Array;
  owed: Uint8Array;
  perSecond: Uint32Array;
  throttledPerHour: Uint32Array;
  requests: number;
  throttled: number;
  // Drained: every profile has had credentials (cold start); every profile the restart found due
  // or empty has been served (restart).
  withCredentials: number;
  coldDrainedAt: number;
  owedLeft: number;
  restartDrainedAt: number;
  restartCalls: number;
  events: Events;
}

const N = HOSTS * PROFILES_PER_HOST;
/** Every scenario's session (they share one cold start, so one duration). */
const SESSION_MS = 43_200_000;
/** The policy handed to nextAttemptAt for a failure: a failure's delay does not depend on it. */
const RETRY_ONLY = defaultRefreshPolicy(SESSION_MS / 1000);
const END_MS = HOURS * 3600_000;

function newHostBucket(clock: ManualClock): TokenBucket {
  return new TokenBucket({ ratePerSecond: DEFAULT_RATE_LIMIT.perSecond, burst: DEFAULT_RATE_LIMIT.burst, clock, scheduler: noScheduler });
}

function newWorld(seed: number): World {
  const clock = new ManualClock(0);
  return {
    clock,
    random: new Rng(seed),
    buckets: Array.from({ length: HOSTS }, () => newHostBucket(clock)),
    serviceTokens: QUOTA_PER_SECOND,
    serviceLast: 0,
    issuedAt: new Float64Array(N).fill(NaN),
    expiresAt: new Float64Array(N).fill(NaN),
    failures: new Uint32Array(N),
    attempt: new Uint8Array(N),
    callStart: new Float64Array(N),
    gen: new Uint32Array(N),
    expired: new Uint8Array(N),
    owed: new Uint8Array(N),
    perSecond: new Uint32Array(Math.ceil(END_MS / 1000) + 1),
    throttledPerHour: new Uint32Array(HOURS),
    requests: 0,
    throttled: 0,
    withCredentials: 0,
    coldDrainedAt: NaN,
    owedLeft: 0,
    restartDrainedAt: NaN,
    restartCalls: 0,
    events: new Events(2 * (N + HOSTS)),
  };
}

/**
 * A copy to go on from. Only called once every profile has credentials and no call is in flight,
 * hours before any host's bucket is used again: by then a bucket has long regained its full rate
 * and burst, so a fresh one (at the copy's clock) behaves exactly alike. The event queue starts empty.
 */
function fork(w: World): World {
  const clock = new ManualClock(w.clock.now());
  return {
    ...w,
    clock,
    random: w.random.copy(),
    buckets: Array.from({ length: HOSTS }, () => newHostBucket(clock)),
    issuedAt: w.issuedAt.slice(),
    expiresAt: w.expiresAt.slice(),
    failures: w.failures.slice(),
    attempt: w.attempt.slice(),
    callStart: w.callStart.slice(),
    gen: w.gen.slice(),
    expired: w.expired.slice(),
    owed: w.owed.slice(),
    perSecond: w.perSecond.slice(),
    throttledPerHour: w.throttledPerHour.slice(),
    events: new Events(2 * (N + HOSTS)),
  };
}

/**
 * Runs the fleet's events until the queue is empty or `END_MS`. `refreshed(i, now, spread)` returns
 * when profile i refreshes next after a success (the policy's decision), or NaN for no event (the
 * shared cold start: the scenarios' refresh times are kept aside, see simulateAll).
 */
function run(w: World, refreshed: (i: number, now: number, spread: boolean) => number, adoptedAt: (i: number, now: number) => number): void {
  const { clock, buckets, issuedAt, expiresAt, failures, attempt, callStart, gen, expired, owed, perSecond, throttledPerHour, events } = w;
  const random = w.random.next;
  const durationMs = SESSION_MS;
  const failed: Extract<AttemptOutcome, { kind: 'failure' }> = { kind: 'failure', retryable: true, failures: 0, expiresAt: undefined };
  // One input object reused for every failure (millions): no allocation per event.
  const failedInput = { outcome: failed, policy: RETRY_ONLY, now: 0, random };
  const schedule = (i: number, at: number) => events.push(at, i, ++gen[i]!);
  const ev = { time: 0, profile: 0, gen: 0 };
  // The service's quota: a plain token bucket (it models AWS, not the agent, so it need not be the
  // agent's TokenBucket; the arithmetic is the same, and inline it costs a fifth as much).
  let { serviceTokens, serviceLast, requests, throttled } = w;

  while (events.pop(ev)) {
    const now = ev.time;
    if (now >= END_MS) break;
    clock.set(now);
    if (ev.profile < 0) {
      // A restarted agent: fresh state, adopts what is in the file, calls at once for the rest.
      const h = -1 - ev.profile;
      buckets[h] = newHostBucket(clock);
      for (let k = 0; k < PROFILES_PER_HOST; k++) {
        const i = h * PROFILES_PER_HOST + k;
        failures[i] = 0;
        attempt[i] = 0;
        const at = expiresAt[i]! > now ? adoptedAt(i, now) : now;
        if (at <= now && !owed[i]) {
          owed[i] = 1;
          w.owedLeft++;
          w.restartCalls++;
        }
        schedule(i, at);
      }
      continue;
    }
    const i = ev.profile;
    if (ev.gen !== gen[i]) continue;
    const h = (i / PROFILES_PER_HOST) | 0;
    if (attempt[i] === 0) {
      // The job's acquire(): the host's own quota first.
      const bucket = buckets[h]!;
      if (!bucket.tryTake()) {
        schedule(i, now + Math.ceil(1000 / bucket.rate));
        continue;
      }
      callStart[i] = now;
    }
    requests++;
    perSecond[Math.floor(now / 1000)]!++;
    if (now > serviceLast) {
      serviceTokens = Math.min(QUOTA_PER_SECOND, serviceTokens + QUOTA_PER_SECOND * ((now - serviceLast) / 1000));
      serviceLast = now;
    }
    if (serviceTokens >= 1 - 1e-9) {
      serviceTokens = Math.max(0, serviceTokens - 1);
      // The job spreads the refresh after credentials that replaced none still valid (job.ts).
      const spread = !(expiresAt[i]! > now);
      if (expiresAt[i]! <= now) expired[i] = 1;
      if (Number.isNaN(expiresAt[i]!) && ++w.withCredentials === N) w.coldDrainedAt = now;
      if (owed[i]) {
        owed[i] = 0;
        if (--w.owedLeft === 0) w.restartDrainedAt = now;
      }
      issuedAt[i] = now;
      expiresAt[i] = now + durationMs;
      failures[i] = 0;
      attempt[i] = 0;
      const at = refreshed(i, now, spread);
      if (!Number.isNaN(at)) schedule(i, at);
      if (w.withCredentials === N && Number.isNaN(at)) break; // the shared cold start is over
      continue;
    }
    throttled++;
    throttledPerHour[Math.floor(now / 3600_000)]!++;
    // The client retries within the call (createSession's DEFAULT_RETRY, full jitter) ...
    const a = attempt[i]!;
    const delay = callRetryDelay(a, DEFAULT_RETRY, random);
    if (a + 1 < DEFAULT_RETRY.maxAttempts && now - callStart[i]! + delay <= DEFAULT_RETRY.deadlineMs) {
      attempt[i] = a + 1;
      schedule(i, now + delay);
      continue;
    }
    // ... then the job fails THROTTLED: the host's bucket slows down and the job backs off (job.ts fail()).
    attempt[i] = 0;
    buckets[h]!.slowDown();
    const exp = expiresAt[i]!;
    failed.failures = ++failures[i]!;
    failed.expiresAt = Number.isNaN(exp) ? undefined : exp; // no credentials yet: no expiresAt
    failedInput.now = now;
    schedule(i, nextAttemptAt(failedInput));
  }
  Object.assign(w, { serviceTokens, serviceLast, requests, throttled });
}

/**
 * All scenarios on one seed. Until every profile has its first credentials (the cold start, ~86
 * min) nothing depends on the refresh policy (a failure's backoff does not, and the first refresh
 * of any policy here comes hours later), so the cold start runs once; each success there draws
 * every scenario's refresh time from that scenario's own random stream. Then each scenario goes on
 * from a copy of that world: a third of the work of three full runs, the same model.
 */
function simulateAll(scenarios: Scenario[], seed = 17): Result[] {
  const started = performance.now();
  const world = newWorld(seed);
  const refreshRandom = scenarios.map((_, k) => new Rng(seed * 1000 + k));
  const firstRefresh = scenarios.map(() => new Float64Array(N));
  const decide = (sc: Scenario, k: number, i: number, w: World, now: number, spread: boolean) =>
    nextAttemptAt({
      outcome: { kind: 'success', issuedAt: w.issuedAt[i]!, expiresAt: w.expiresAt[i]!, spread },
      policy: sc.policy,
      now,
      random: refreshRandom[k]!.next,
    });

  // Cold start: each host starts somewhere in the first minute; with 5 profiles (< burst) the
  // agent's stagger window is 0, so all five call at once.
  for (let h = 0; h < HOSTS; h++) {
    const start = world.random.next() * STORM_WINDOW_MS;
    for (let k = 0; k < PROFILES_PER_HOST; k++) world.events.push(start, h * PROFILES_PER_HOST + k, ++world.gen[h * PROFILES_PER_HOST + k]!);
  }
  run(
    world,
    (i, now, spread) => {
      scenarios.forEach((sc, k) => (firstRefresh[k]![i] = decide(sc, k, i, world, now, spread)));
      return NaN;
    },
    () => {
      throw new Error('bench bug: a restart during the cold start');
    },
  );
  const forkAt = world.clock.now();
  const shared = performance.now() - started;
  if (world.withCredentials !== N) throw new Error('bench bug: the cold start did not finish');

  return scenarios.map((sc, k) => {
    const t0 = performance.now();
    const w = fork(world);
    const first = firstRefresh[k]!;
    for (let i = 0; i < N; i++) {
      if (!(first[i]! > forkAt)) throw new Error(`bench bug: scenario ${k} refreshes profile ${i} before the cold start ended`);
      w.events.push(first[i]!, i, ++w.gen[i]!);
    }
    // The restart storm is one marker event per host (profile index -1 - host), at the same times in every scenario.
    const restarts = new Rng(seed + 1);
    for (let h = 0; h < HOSTS; h++) w.events.push(RESTART_AT_MS + restarts.next() * STORM_WINDOW_MS, -1 - h, 0);
    run(
      w,
      (i, now, spread) => decide(sc, k, i, w, now, spread),
      // A restarted job adopts the credentials in the file and keeps their phase (job.ts adopt()).
      (i, now) => decide(sc, k, i, w, now, false),
    );
    return summarize(sc, w, shared + performance.now() - t0);
  });
}

function summarize(scenario: Scenario, w: World, wallMs: number): Result {
  const { perSecond, coldDrainedAt, restartDrainedAt } = w;
  // Steady state: from 2 h after the cold start was drained to the restart, and from 2 h after the
  // restart storm was drained to the end.
  const steady: number[] = [];
  const restartDone = Number.isNaN(restartDrainedAt) ? RESTART_AT_MS + STORM_WINDOW_MS : restartDrainedAt;
  for (let s = Math.ceil(coldDrainedAt / 1000) + 7200; s < RESTART_AT_MS / 1000; s++) steady.push(perSecond[s]!);
  for (let s = Math.ceil(restartDone / 1000) + 7200; s < END_MS / 1000; s++) steady.push(perSecond[s]!);
  // The rate per second averaged over each minute (the goal's measure: a per-second count of a
  // random fleet at ~1.2/s still shows 6–9 in its busiest second), and the busiest single second.
  const perMinute: number[] = [];
  for (let m = 0; m + 60 <= steady.length; m += 60) perMinute.push(steady.slice(m, m + 60).reduce((x, y) => x + y, 0) / 60);
  const sorted = Float64Array.from(perMinute).sort();
  const p99 = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]! : NaN;
  const mean = steady.length ? steady.reduce((x, y) => x + y, 0) / steady.length : NaN;
  const maxSecond = steady.reduce((x, y) => Math.max(x, y), 0);
  return {
    scenario,
    requests: w.requests,
    throttled: w.throttled,
    steadyPeak: sorted.length ? sorted[sorted.length - 1]! : NaN,
    steadyP99: p99,
    steadyMean: mean,
    maxSecond,
    coldDrainS: coldDrainedAt / 1000,
    restartDrainS: (restartDone - RESTART_AT_MS) / 1000,
    throttledPerHour: [...w.throttledPerHour],
    restartCalls: w.restartCalls,
    expiredProfiles: w.expired.reduce((x, y) => x + y, 0),
    wallMs,
  };
}

const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;


const scenarios: Scenario[] = [
  {
    name: 'before: 12 h sessions, the old default refresh (margin 15m, jitter 10% of it = 90 s, no spread)',
    policy: { kind: 'before_expiry', marginSeconds: 900, jitterSeconds: 90 },
  },
  { name: 'after: 12 h sessions, the default refresh (margin 15m, jitter 90 s, first refresh after a start spread)', policy: defaultRefreshPolicy(43_200) },
  { name: '12 h sessions, margin 15m, jitter 6h (explicit, no spread)', policy: { kind: 'before_expiry', marginSeconds: 900, jitterSeconds: 6 * 3600 } },
];

const row = (r: Result) =>
  `| ${r.scenario.name} | ${r.steadyPeak.toFixed(2)} (${r.maxSecond}) | ${r.steadyP99.toFixed(2)} | ${r.steadyMean.toFixed(2)} | ${minutes(r.coldDrainS)} | ${r.restartCalls}, ${minutes(r.restartDrainS)} | ${r.requests} (${r.throttled}) | ${r.expiredProfiles} | ${(r.wallMs / 1000).toFixed(1)} s |`;

function main(): void {
  const wallStart = performance.now();
  const n = HOSTS * PROFILES_PER_HOST;
  console.log(`Fleet: ${HOSTS} hosts × ${PROFILES_PER_HOST} profiles = ${n} profiles, one account, quota ${QUOTA_PER_SECOND} CreateSession/s; ${HOURS} h simulated.`);
  for (const s of [3600, 43_200]) {
    const p = defaultRefreshPolicy(s);
    const period = s - (p.kind === 'before_expiry' ? p.marginSeconds + p.jitterSeconds / 2 : 0);
    console.log(
      `Demand floor with ${s / 3600} h sessions and the default refresh: ${n} / ${period} s = ${(n / period).toFixed(2)} requests/s on average${n / period > QUOTA_PER_SECOND ? ' — above the quota: no spread or jitter can fit it' : ''}.`,
    );
  }
  console.log(`Cold-start floor: ${n} first calls at ${QUOTA_PER_SECOND}/s take at least ${minutes(n / QUOTA_PER_SECOND)}.`);
  console.log('');
  console.log('Steady state: from 2 h after each storm was drained; rates in requests/s averaged per minute (busiest single second beside).');
  console.log('');
  console.log('| scenario | steady peak (1 s) | steady p99 | steady mean | cold-start storm drained | restart storm: calls, drained | requests (throttled) | profiles that ever expired | sim time |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of simulateAll(scenarios)) {
    console.log(row(r));
    if (process.env['FLEET_DEBUG']) console.log('throttled per hour:', r.throttledPerHour.join(' '));
  }
  console.log('');
  const cpu = process.cpuUsage();
  console.log(
    `Whole table: ${((performance.now() - wallStart) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU with start-up (load average ${loadavg()[0]!.toFixed(1)}; sim time = the shared cold start + the scenario's own run).`,
  );
}

main();
