/**
 * V8's optimising compiler (TurboFan) for `run`. main.ts starts `run` and `once` with it off; `run`
 * turns it on here, and never off again:
 * - with credential endpoints (`serve:`): they answer thousands of requests a second and need it
 *   (bench/serve.ts: about 2-3x the throughput);
 * - once its schedule holds OPTIMISE_FROM_PROFILES profiles or more, at start or at a reload.
 *
 * Why by size (bench/agent.ts and bench/run-rss.ts, 2026-12-06, docs/benchmarks.md "Sixth pass"):
 * - A 1000-profile agent spends most of a refresh burst in node's own JavaScript (http, streams,
 *   events, timers), which runs ~40 % slower unoptimised. With TurboFan on, its refresh cycles cost
 *   about 0.1 less in the ratio to the floor client (medians 1.16-1.29x against 1.29-1.38x; that
 *   floor was measured in its own warm-up, so only the difference holds: "Seventh pass").
 * - TurboFan's cost is fixed, not per profile: the first optimised function pages in the compiler's
 *   own machine code, ~4-5 MB of RSS. A one-profile agent compiles three functions of node's path
 *   module and nothing else, and peaked at 59.3 MB instead of 55.2 MB (1.51x bare node against
 *   1.40x). A small schedule never has a burst that could pay that back.
 * - A function is optimised only after 12 budget intervals instead of V8's 3: the compiler then
 *   takes the hot code of a burst (node's http and stream internals, the request builder) and not
 *   the code a cold fill runs a few hundred times. With V8's 3, the cold fill of 1000 profiles took
 *   3.4 s of CPU, against 2.2-2.8 s with TurboFan off; with 12, 2.5-3.0 s.
 */
import { setFlagsFromString } from 'node:v8';

/** From this many profiles in the schedule, `run` optimises its hot code. */
export const OPTIMISE_FROM_PROFILES = 100;
/** Budget intervals a function runs before TurboFan takes it (V8's default: 3). */
const TICKS_BEFORE_OPTIMISATION = 12;

let optimising = false;

/** Turns TurboFan on for a schedule of `profiles` profiles if it is large enough; true once it is on. */
export function optimiseForSchedule(profiles: number): boolean {
  if (!optimising && profiles >= OPTIMISE_FROM_PROFILES) optimise();
  return optimising;
}

/** Turns TurboFan on for the credential endpoints. */
export function optimiseForEndpoints(): void {
  if (!optimising) optimise();
}

function optimise(): void {
  setFlagsFromString(`--ticks-before-optimization=${TICKS_BEFORE_OPTIMISATION}`);
  setFlagsFromString('--turbofan');
  optimising = true;
}
