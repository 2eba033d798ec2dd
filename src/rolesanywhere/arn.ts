/**
 * ARN parsing and the checks CreateSession's three ARNs must pass before any request: shape,
 * trust anchor and profile in the same partition and region, role in the same partition.
 */
export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov' | 'aws-iso' | 'aws-iso-b' | 'aws-iso-e' | 'aws-iso-f' | 'aws-eusc';

export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

export function parseArn(text: string): Arn | undefined {
  const m = /^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$/.exec(text);
  if (!m) return undefined;
  return { partition: m[1]!, service: m[2]!, region: m[3]!, account: m[4]!, resource: m[5]! };
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const TRUST_ANCHOR = new RegExp(`^trust-anchor/${UUID}$`);
const PROFILE = new RegExp(`^profile/${UUID}$`);
const ROLE = /^role\/[\w+=,.@/-]{1,512}$/;

export type ArnField = 'trust_anchor_arn' | 'profile_arn' | 'role_arn';

export interface ArnIssue {
  field: ArnField;
  message: string;
}

const EXAMPLES: Record<ArnField, string> = {
  trust_anchor_arn: 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/<uuid>',
  profile_arn: 'arn:aws:rolesanywhere:eu-west-1:111122223333:profile/<uuid>',
  role_arn: 'arn:aws:iam::111122223333:role/<name>',
};

function shape(field: ArnField, value: string): Arn | ArnIssue {
  const arn = parseArn(value);
  const bad = (why: string): ArnIssue => ({ field, message: `"${value}" is not a valid ${field}: ${why} (expected ${EXAMPLES[field]})` });
  if (!arn) return bad('not an ARN');
  if (field === 'role_arn') {
    if (arn.service !== 'iam') return bad('the service must be iam');
    if (arn.region !== '') return bad('an IAM role ARN has no region');
    if (!arn.account) return bad('the account id is missing');
    if (!ROLE.test(arn.resource)) return bad('the resource must be role/<name>');
  } else {
    if (arn.service !== 'rolesanywhere') return bad('the service must be rolesanywhere');
    if (!arn.region) return bad('the region is missing');
    if (!arn.account) return bad('the account id is missing');
    const re = field === 'trust_anchor_arn' ? TRUST_ANCHOR : PROFILE;
    if (!re.test(arn.resource)) return bad(`the resource must be ${field === 'trust_anchor_arn' ? 'trust-anchor' : 'profile'}/<uuid>`);
  }
  return arn;
}

export interface ValidArns {
  trustAnchor: Arn;
  profile: Arn;
  role: Arn;
}

/** Every problem with the three ARNs at once; `arns` is set only when there are none. */
export function validateArns(trustAnchorArn: string, profileArn: string, roleArn: string): { issues: ArnIssue[]; arns?: ValidArns } {
  const ta = shape('trust_anchor_arn', trustAnchorArn);
  const pr = shape('profile_arn', profileArn);
  const ro = shape('role_arn', roleArn);
  const issues: ArnIssue[] = [ta, pr, ro].filter((x): x is ArnIssue => 'field' in x);
  if (issues.length) return { issues };
  const [t, p, r] = [ta, pr, ro] as Arn[] as [Arn, Arn, Arn];
  if (t.partition !== p.partition || t.region !== p.region) {
    issues.push({
      field: 'profile_arn',
      message: `the profile (${p.partition}/${p.region}) and the trust anchor (${t.partition}/${t.region}) must be in the same partition and region`,
    });
  }
  if (r.partition !== t.partition) {
    issues.push({ field: 'role_arn', message: `the role's partition ${r.partition} differs from the trust anchor's ${t.partition}` });
  }
  return issues.length ? { issues } : { issues, arns: { trustAnchor: t, profile: p, role: r } };
}

/** `roleSessionName`: 2–64 characters of [\w+=,.@-]. */
export function validRoleSessionName(name: string): boolean {
  return /^[\w+=,.@-]{2,64}$/.test(name);
}

export const MIN_DURATION_SECONDS = 900;
export const MAX_DURATION_SECONDS = 43200;
