/**
 * Fakes at the agent's edges, shared by the agent and observability tests: profiles on fixed ARNs,
 * a scripted CreateSession service (the transport is the only fake; signing and reply parsing run
 * for real), and a credentials sink that remembers every write.
 */
import type { Credentials } from '../../src/credentials.js';
import type { AgentProfile, CredentialsSink } from '../../src/agent/agent.js';
import type { HttpReply, Transport } from '../../src/rolesanywhere/transport.js';
import type { Clock } from '../../src/time/clock.js';

export const TA = 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/2b7f1a3c-4d5e-4f60-8a9b-0c1d2e3f4a5b';
export const PR = 'arn:aws:rolesanywhere:eu-west-1:111122223333:profile/6c7d8e9f-0a1b-4c2d-9e3f-4a5b6c7d8e9f';

/** A profile named `name` assuming role/`name`, refreshed 15 min before expiry without jitter. */
export function profile(name: string, extra: Partial<AgentProfile> = {}): AgentProfile {
  return {
    name,
    specHash: `hash-${name}`,
    session: { trustAnchorArn: TA, profileArn: PR, roleArn: `arn:aws:iam::111122223333:role/${name}`, durationSeconds: 3600 },
    refresh: { kind: 'before_expiry', marginSeconds: 900, jitterSeconds: 0 },
    key: { certificate: `/certs/${name}.pem`, privateKey: `/certs/${name}.key` },
    transport: {},
    ...extra,
  };
}

export const reply = (status: number, type: string): HttpReply => ({ status, headers: { 'x-amzn-errortype': type }, body: '{"message":"scripted"}' });

/** The service: credentials per role, scripted failures per role (a reply or a thrown error), every issued set kept. */
export class FakeService implements Transport {
  calls: string[] = [];
  failures = new Map<string, Array<HttpReply | Error>>();
  issued: Credentials[] = [];
  constructor(
    private readonly clock: Clock,
    public lifetimeS = 3600,
  ) {}
  async post(url: string): Promise<HttpReply> {
    const role = new URL(url).searchParams.get('roleArn')!.split('/').pop()!;
    this.calls.push(role);
    const f = this.failures.get(role)?.shift();
    if (f instanceof Error) throw f;
    if (f) return f;
    const n = this.issued.length + 1;
    const c = {
      accessKeyId: `ASIA${role.toUpperCase()}${n}`,
      secretAccessKey: `secret-${role}-${n}-${'s'.repeat(20)}`,
      sessionToken: `token-${role}-${n}-${'t'.repeat(40)}`,
      expiration: new Date(this.clock.now() + this.lifetimeS * 1000),
    };
    this.issued.push(c);
    return { status: 201, headers: {}, body: JSON.stringify({ credentialSet: [{ credentials: { ...c, expiration: c.expiration.toISOString() } }] }) };
  }
  async close() {}
}

export class MemorySink implements CredentialsSink {
  writes: Array<{ profile: string; credentials: Credentials }> = [];
  replaceCount = 0;
  async write(profile: string, credentials: Credentials) {
    this.writes.push({ profile, credentials });
    this.replaceCount++;
  }
  async flush() {}
  async close() {}
  /** The last credentials written for a profile. */
  last(profile: string) {
    return [...this.writes].reverse().find((w) => w.profile === profile)?.credentials;
  }
}
