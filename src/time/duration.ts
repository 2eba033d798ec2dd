/**
 * Duration text for the schedule and the CLI: plain numbers are seconds (`3600`, `"3600"`), strings
 * may use h/m/s units in that order (`1h`, `15m`, `1h30m`, `90s`, `1.5h`). The result is whole
 * seconds; anything else is rejected rather than rounded, so `1.5s` or `1h1h` never slip through.
 */

const UNIT_SECONDS = { h: 3600, m: 60, s: 1 } as const;
const DURATION = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$/;

/** Seconds, or undefined when the input is not a duration. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') {
    return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  }
  const text = input.trim();
  if (/^\d+$/.test(text)) return parseDuration(Number(text));
  const m = DURATION.exec(text);
  if (!m || text === '') return undefined;
  const [, h, mi, s] = m;
  const total = Number(h ?? 0) * UNIT_SECONDS.h + Number(mi ?? 0) * UNIT_SECONDS.m + Number(s ?? 0) * UNIT_SECONDS.s;
  // 1.5h is exact; guard against float noise such as 0.1h = 359.99999
  const rounded = Math.round(total);
  if (Math.abs(total - rounded) > 1e-6 || !Number.isSafeInteger(rounded)) return undefined;
  return rounded;
}

/** `5400` → `1h30m`, `90` → `1m30s`, `0` → `0s`. Inverse of parseDuration for whole seconds. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  let rest = Math.round(Math.abs(seconds));
  const sign = seconds < 0 ? '-' : '';
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of Object.entries(UNIT_SECONDS)) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return sign + out;
}
