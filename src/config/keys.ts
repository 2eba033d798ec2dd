/**
 * The key sets the schedule accepts at each place, the one list the validator, the JSON Schema test
 * and the docs agree on, and the did-you-mean suggestions for a key that is not among them.
 */
import { table } from '../lookup.js';
import { PROFILE_KEYS } from './profile/catalogue.js';

export const TOP_LEVEL_KEYS = [
  'credentials_file',
  'credentials_file_owner',
  'credentials_dir_shared',
  'defaults',
  'profiles',
  'rate_limit',
  'log_level',
  'http',
  'certificate_expiry_warnings',
  'serve',
] as const;

/** The profile keys are the settings catalogue's (src/config/profile/catalogue.ts), in its order. */
export { PROFILE_KEYS, type ProfileKey } from './profile/catalogue.js';

export const REFRESH_KEYS = ['before_expiry', 'cron', 'jitter', 'time_zone'] as const;
export const RATE_LIMIT_KEYS = ['per_second', 'burst', 'concurrency'] as const;
export const HTTP_KEYS = ['listen'] as const;
export const SERVE_KEYS = ['ecs', 'imds'] as const;
export const SERVE_ECS_KEYS = ['listen', 'token_dir', 'tls'] as const;
export const SERVE_IMDS_KEYS = ['listen', 'profile', 'tls'] as const;
export const TLS_KEYS = ['certificate', 'private_key'] as const;

/** Every place that takes keys, by name; the schema test maps each schema object onto one of these. */
export const KEY_SETS = {
  top: TOP_LEVEL_KEYS,
  profile: PROFILE_KEYS,
  refresh: REFRESH_KEYS,
  rate_limit: RATE_LIMIT_KEYS,
  http: HTTP_KEYS,
  serve: SERVE_KEYS,
  serve_ecs: SERVE_ECS_KEYS,
  serve_imds: SERVE_IMDS_KEYS,
  tls: TLS_KEYS,
} as const satisfies Record<string, readonly string[]>;

export type KeySetName = keyof typeof KEY_SETS;

/** Top-level keys starting with this are ignored, so YAML anchors can live there (`x-common: &common`). */
export const EXTENSION_PREFIX = 'x-';

/** Keys people reach for that the schedule refuses on purpose. */
const REFUSED = table({
  private_key_password: 'the schedule holds no secrets: use private_key_password_file or private_key_password_env',
  password: 'the schedule holds no secrets: use private_key_password_file or private_key_password_env',
  pkcs11_pin: 'the schedule holds no secrets: use pkcs11_pin_file or pkcs11_pin_env',
  pin: 'the schedule holds no secrets: use pkcs11_pin_file or pkcs11_pin_env',
  '<<': 'YAML merge keys are not supported: put shared settings in defaults:',
});

function normalise(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-\s]/g, '_')
    .toLowerCase();
}

export function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate: same key in another spelling (camelCase, dashes), else edit distance ≤ 2. */
export function didYouMean(key: string, candidates: readonly string[]): string | undefined {
  const n = normalise(key);
  const exact = candidates.find((c) => c === n);
  if (exact) return exact;
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = levenshtein(n, c);
    if (d < bestDistance && d < c.length / 2) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

const PLACE: Record<KeySetName, string> = {
  top: 'at the top level',
  profile: 'in a profile or in defaults:',
  refresh: 'under refresh:',
  rate_limit: 'under rate_limit:',
  http: 'under http:',
  serve: 'under serve:',
  serve_ecs: 'under serve.ecs:',
  serve_imds: 'under serve.imds:',
  tls: 'under serve.ecs.tls: or serve.imds.tls:',
};

const LIST_PLACE: Record<KeySetName, string> = {
  top: 'at the top level',
  profile: 'in a profile',
  refresh: 'under refresh',
  rate_limit: 'under rate_limit',
  http: 'under http',
  serve: 'under serve',
  serve_ecs: 'under serve.ecs',
  serve_imds: 'under serve.imds',
  tls: 'under tls',
};

/** The hint for an unknown key found where `set` applies. */
export function unknownKeyHint(key: string, set: KeySetName): string {
  const refused = REFUSED[normalise(key)] ?? REFUSED[key];
  if (refused) return refused;
  const here = didYouMean(key, KEY_SETS[set]);
  if (here) return `did you mean "${here}"?`;
  for (const [other, keys] of Object.entries(KEY_SETS) as [KeySetName, readonly string[]][]) {
    if (other === set) continue;
    const there = didYouMean(key, keys);
    if (there && normalise(key) === there) return `"${there}" belongs ${PLACE[other]}`;
  }
  return `valid keys ${LIST_PLACE[set]}: ${KEY_SETS[set].join(', ')}`;
}
