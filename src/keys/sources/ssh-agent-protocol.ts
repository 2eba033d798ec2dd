/**
 * A minimal client for the ssh-agent protocol (draft-miller-ssh-agent): list identities and ask for a
 * signature, over the agent's unix socket. One connection per request: an agent that went away and came
 * back (a new process on the same socket) is simply found again on the next call.
 */
import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { connect } from 'node:net';

const SSH_AGENT_FAILURE = 5;
const SSH_AGENTC_REQUEST_IDENTITIES = 11;
const SSH_AGENT_IDENTITIES_ANSWER = 12;
const SSH_AGENTC_SIGN_REQUEST = 13;
const SSH_AGENT_SIGN_RESPONSE = 14;
export const SSH_AGENT_RSA_SHA2_256 = 2;
/** An agent answer larger than this is not an agent we understand. */
const MAX_MESSAGE = 256 * 1024;

export interface AgentIdentity {
  /** The SSH public key blob, sent back in a sign request. */
  blob: Buffer;
  comment: string;
  /** `ssh-rsa`, `ecdsa-sha2-nistp256`, … */
  type: string;
  /** The public key, when the type is one this agent can sign with (RSA, ECDSA P-256/P-384/P-521). */
  publicKey?: KeyObject;
  /** `SHA256:…` as `ssh-add -l` prints it. */
  fingerprint: string;
}

/** Why a request failed: the socket (gone, refused) or the agent's answer (failure, garbage). */
export class AgentProtocolError extends Error {
  constructor(
    message: string,
    readonly kind: 'unreachable' | 'refused' | 'malformed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export async function listIdentities(socket: string, timeoutMs = 10_000): Promise<AgentIdentity[]> {
  const reply = await request(socket, Buffer.from([SSH_AGENTC_REQUEST_IDENTITIES]), timeoutMs);
  const type = reply[0];
  if (type === SSH_AGENT_FAILURE) throw new AgentProtocolError('the agent refused to list its keys', 'refused');
  if (type !== SSH_AGENT_IDENTITIES_ANSWER) throw new AgentProtocolError(`unexpected answer type ${type} to a list request`, 'malformed');
  const r = new Reader(reply.subarray(1));
  const n = r.uint32();
  const out: AgentIdentity[] = [];
  for (let i = 0; i < n; i++) {
    const blob = r.string();
    const comment = r.string().toString('utf8');
    out.push(describeBlob(blob, comment));
  }
  return out;
}

/** Asks the agent to sign `data`; returns the signature blob's format name and its bytes. */
export async function signWithAgent(socket: string, blob: Buffer, data: Buffer, flags: number, timeoutMs = 30_000): Promise<{ format: string; signature: Buffer }> {
  const body = Buffer.concat([Buffer.from([SSH_AGENTC_SIGN_REQUEST]), sshString(blob), sshString(data), uint32(flags)]);
  const reply = await request(socket, body, timeoutMs);
  const type = reply[0];
  if (type === SSH_AGENT_FAILURE) throw new AgentProtocolError('the agent refused to sign (locked, or the key needs a confirmation that was denied)', 'refused');
  if (type !== SSH_AGENT_SIGN_RESPONSE) throw new AgentProtocolError(`unexpected answer type ${type} to a sign request`, 'malformed');
  const sig = new Reader(new Reader(reply.subarray(1)).string());
  const format = sig.string().toString('utf8');
  return { format, signature: sig.string() };
}

/** ECDSA signature blob (mpint r, mpint s) to the DER SEQUENCE{r, s} that X.509 SigV4 sends. */
export function ecdsaBlobToDer(blob: Buffer): Buffer {
  const r = new Reader(blob);
  const ints = [r.string(), r.string()].map((m) => derInteger(m));
  return derTlv(0x30, Buffer.concat(ints));
}

export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

const CURVES: Record<string, string> = { nistp256: 'P-256', nistp384: 'P-384', nistp521: 'P-521' };

function describeBlob(blob: Buffer, comment: string): AgentIdentity {
  const id: AgentIdentity = { blob, comment, type: '?', fingerprint: fingerprint(blob) };
  try {
    const r = new Reader(blob);
    id.type = r.string().toString('utf8');
    if (id.type === 'ssh-rsa') {
      const e = r.string();
      const n = r.string();
      id.publicKey = createPublicKey({ key: { kty: 'RSA', e: b64u(e), n: b64u(n) } as JsonWebKey, format: 'jwk' });
    } else if (id.type.startsWith('ecdsa-sha2-')) {
      const crv = CURVES[r.string().toString('utf8')];
      const q = r.string();
      if (crv && q[0] === 4) {
        const len = (q.length - 1) / 2;
        id.publicKey = createPublicKey({
          key: { kty: 'EC', crv, x: b64u(q.subarray(1, 1 + len)), y: b64u(q.subarray(1 + len)) } as JsonWebKey,
          format: 'jwk',
        });
      }
    }
  } catch {
    // A key type we cannot read (ed25519, sk-…, certificates) is listed but never matched.
  }
  return id;
}

function request(socket: string, body: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let chunks: Buffer[] = [];
    let have = 0;
    let settled = false;
    const done = (err: Error | undefined, value?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => done(new AgentProtocolError(`no answer within ${timeoutMs / 1000} s`, 'unreachable')), timeoutMs);
    conn.on('error', (e) => done(new AgentProtocolError((e as NodeJS.ErrnoException).code ?? e.message, 'unreachable', { cause: e })));
    conn.on('close', () => done(new AgentProtocolError('the agent closed the connection before answering', 'unreachable')));
    conn.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (have < 4) return;
      const all = Buffer.concat(chunks);
      chunks = [all];
      const len = all.readUInt32BE(0);
      if (len === 0 || len > MAX_MESSAGE) return done(new AgentProtocolError(`answer of ${len} bytes`, 'malformed'));
      if (all.length >= 4 + len) done(undefined, all.subarray(4, 4 + len));
    });
    conn.write(Buffer.concat([uint32(body.length), body]));
  });
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  uint32(): number {
    if (this.pos + 4 > this.buf.length) throw new AgentProtocolError('truncated answer', 'malformed');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  string(): Buffer {
    const len = this.uint32();
    if (this.pos + len > this.buf.length) throw new AgentProtocolError('truncated answer', 'malformed');
    const v = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function sshString(data: Buffer): Buffer {
  return Buffer.concat([uint32(data.length), data]);
}

function stripZeros(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

function b64u(b: Buffer): string {
  return stripZeros(b).toString('base64url');
}

function derInteger(mpint: Buffer): Buffer {
  let v = stripZeros(mpint);
  if (v.length === 0) v = Buffer.from([0]);
  if ((v[0]! & 0x80) !== 0) v = Buffer.concat([Buffer.from([0]), v]);
  return derTlv(0x02, v);
}

function derTlv(tag: number, value: Buffer): Buffer {
  const n = value.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, value]);
}
