/**
 * Fake but realistic CreateSession results: an `ASIA…` access key id (20 characters), a
 * 40-character secret, a long base64 session token that contains `+`, `/` and `=` (the characters
 * that break naive INI writers and URL handling), the assumed-role user and the subject ARN. Random
 * bytes come from a parameter so tests can make the output repeatable.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Arn } from '../rolesanywhere/arn.js';

export type RandomSource = (n: number) => Buffer;

const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function pick(alphabet: string, n: number, random: RandomSource): string {
  return [...random(n)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** A version-4-shaped UUID from a hash, so the same inputs give the same id. */
function uuidFrom(hashHex: string): string {
  const h = hashHex.slice(0, 32).split('');
  h[12] = '4';
  h[16] = '89ab'[parseInt(h[16]!, 16) % 4]!;
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

export function sessionToken(random: RandomSource): string {
  // Real tokens start with the same bytes ("IQoJb3JpZ2luX2Vj…"). The 3 fixed bytes at a multiple of 3
  // encode as "+/+/", and 712 bytes in all (≡ 1 mod 3) make the base64 end in "==": every token has
  // the characters that trip naive writers, whatever the random source returns.
  const prefix = Buffer.from('!\n\torigin_ec', 'latin1'); // 12 bytes
  return Buffer.concat([prefix, Buffer.from([0xfb, 0xff, 0xbf]), random(697)]).toString('base64');
}

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO 8601 without milliseconds, as the service sends it. */
  expiration: string;
  roleArn: string;
  profileArn: string;
  trustAnchorArn: string;
  /** Serial of the certificate the credentials were issued to, decimal. */
  serial: string;
  roleSessionName: string;
}

export interface IssueInput {
  role: Arn;
  roleArn: string;
  profileArn: string;
  trustAnchor: Arn;
  trustAnchorArn: string;
  leafSubject: string;
  leafCommonName: string | undefined;
  serialHex: string;
  serialDecimal: string;
  roleSessionName?: string;
  durationSeconds: number;
  now: number;
}

export interface CreateSessionResponse {
  credentialSet: Array<{
    assumedRoleUser: { arn: string; assumedRoleId: string };
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: string };
    packedPolicySize: number;
    roleArn: string;
    sourceIdentity: string;
  }>;
  subjectArn: string;
}

export function issueCredentials(input: IssueInput, random: RandomSource = randomBytes): { issued: IssuedCredentials; body: CreateSessionResponse } {
  const roleName = input.role.resource.split('/').pop()!;
  // Without a custom name the service uses the certificate's serial in hex.
  const sessionName = input.roleSessionName ?? BigInt('0x' + (input.serialHex || '0')).toString(16);
  const roleId = 'AROA' + pick(KEY_ID_ALPHABET, 17, (n) => createHash('sha256').update(input.roleArn).digest().subarray(0, n));
  const expiration = new Date(input.now + input.durationSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const issued: IssuedCredentials = {
    accessKeyId: 'ASIA' + pick(KEY_ID_ALPHABET, 16, random),
    secretAccessKey: pick(SECRET_ALPHABET, 40, random),
    sessionToken: sessionToken(random),
    expiration,
    roleArn: input.roleArn,
    profileArn: input.profileArn,
    trustAnchorArn: input.trustAnchorArn,
    serial: input.serialDecimal,
    roleSessionName: sessionName,
  };
  const subjectId = uuidFrom(createHash('sha256').update(`${input.trustAnchorArn}\n${input.leafSubject}`).digest('hex'));
  const ta = input.trustAnchor;
  const body: CreateSessionResponse = {
    credentialSet: [
      {
        assumedRoleUser: {
          arn: `arn:${input.role.partition}:sts::${input.role.account}:assumed-role/${roleName}/${sessionName}`,
          assumedRoleId: `${roleId}:${sessionName}`,
        },
        credentials: {
          accessKeyId: issued.accessKeyId,
          secretAccessKey: issued.secretAccessKey,
          sessionToken: issued.sessionToken,
          expiration,
        },
        packedPolicySize: 0,
        roleArn: input.roleArn,
        sourceIdentity: `CN=${input.leafCommonName ?? ''}`,
      },
    ],
    subjectArn: `arn:${ta.partition}:rolesanywhere:${ta.region}:${ta.account}:subject/${subjectId}`,
  };
  return { issued, body };
}
