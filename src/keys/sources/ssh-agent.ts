/**
 * Keys held by an ssh-agent (OpenSSH's, Secretive, 1Password, YubiKey PIV agents, gpg-agent):
 * `private_key: ssh-agent:` (the socket in SSH_AUTH_SOCK) or `ssh-agent:/path/to/socket`. The
 * certificate stays a file; the agent's identity whose public key equals the certificate's signs.
 *
 * - RSA signs with the agent's rsa-sha2-256 flag: the blob is the raw PKCS#1 v1.5 signature.
 * - ECDSA P-256: the agent hashes with SHA-256 (as AWS4-X509-ECDSA-SHA256 wants) and returns mpint
 *   r, s, turned into DER here. P-384 and P-521 are refused: the agent hashes those with SHA-384 and
 *   SHA-512 and has no way to ask for SHA-256, so the service could never verify the signature.
 * - The agent is reached anew for each request: when it restarts, the next attempt finds it again.
 * - No file is watched but the certificate (and intermediates).
 */
import type { X509Certificate } from 'node:crypto';
import { AgentError } from '../../errors.js';
import type { KeyMaterialOptions } from '../options.js';
import { algorithmForKeyType, type Signer, type SigningAlgorithm } from '../signer.js';
import type { Inventory, KeySource } from './source.js';
import type { AgentIdentity, AgentProtocolError } from './ssh-agent-protocol.js';

// The protocol client (node:net, node:crypto) loads only when an agent is used: the registry, which
// every command imports to classify key strings, stays cheap.
const protocol = () => import('./ssh-agent-protocol.js');

const PREFIX = /^ssh-agent:/i;

export const sshAgentSource: KeySource = {
  kind: 'ssh-agent',
  noun: 'an ssh-agent: key',
  claims: (value) => PREFIX.test(value),
  isFile: false,
  holdsCertificate: false,
  // No password or PIN setting applies: the agent holds the key unlocked (ssh-add asked for its passphrase).
  settings: [],
  plural: 'ssh-agent: keys',
  keyNoun: 'a key held by an ssh-agent',
  settingsHint: 'remove it: the agent holds the key unlocked (ssh-add asks for the passphrase when the key is added)',
  display: (value) => value,
  open: (options, deps) => openSshAgentSigner(options, deps.env),
  inventory: (target, certificates, env) => inventory(target, certificates, env),
};

/** `list-certs ssh-agent:[PATH] [CERT…]`: the agent's keys and which certificate files each one matches. */
async function inventory(target: string, certificates: readonly string[], env: NodeJS.ProcessEnv): Promise<Inventory> {
  const socket = agentSocket(target, env);
  const { readCertificateAndChain } = await import('../load.js');
  const certs: { file: string; leaf: X509Certificate }[] = [];
  for (const file of certificates) certs.push({ file, leaf: (await readCertificateAndChain({ certificate: file })).leaf });
  const ids = await agentIdentities(socket);
  const identities = ids.map((id) => ({
    fingerprint: id.fingerprint,
    type: id.type,
    comment: id.comment,
    certificates: certs.filter((c) => matchingIdentities([id], c.leaf).length > 0).map((c) => c.file),
  }));
  const unmatched = certs.filter((c) => matchingIdentities(ids, c.leaf).length === 0).map((c) => c.file);
  const lines = [`ssh-agent ${socket}`];
  if (!ids.length) lines.push('', '  (no keys; a locked agent lists none)');
  for (const id of identities) {
    lines.push('', `  ${id.fingerprint} ${id.type}${id.comment ? ` ${id.comment}` : ''}`);
    if (certificates.length) lines.push(...(id.certificates.length ? id.certificates.map((f) => `    matches ${f}`) : ['    matches none of the certificates given']));
  }
  for (const f of unmatched) lines.push('', `no key in the agent matches ${f}`);
  if (certs.length && identities.some((i) => i.certificates.length)) lines.push('', `use: private_key: ${target}`);
  return { listing: { agent: socket, identities, unmatched }, text: lines.join('\n') + '\n' };
}

/** The agent socket an `ssh-agent:[PATH]` value names. */
export function agentSocket(value: string, env: NodeJS.ProcessEnv): string {
  const path = value.replace(PREFIX, '');
  if (path !== '') return path;
  const sock = env['SSH_AUTH_SOCK'];
  if (!sock) {
    throw new AgentError('ARGUMENT_INVALID', `${value} names the ssh-agent in SSH_AUTH_SOCK, but SSH_AUTH_SOCK is not set`, {
      hint: 'start the agent (eval "$(ssh-agent)") or name its socket: ssh-agent:/path/to/agent.sock',
    });
  }
  return sock;
}

/** The agent's identities, with errors an operator can act on. */
export async function agentIdentities(socket: string): Promise<AgentIdentity[]> {
  try {
    return await (await protocol()).listIdentities(socket);
  } catch (e) {
    throw agentFailure(e, socket, 'listing the keys');
  }
}

/** Identities whose public key equals the certificate's. */
export function matchingIdentities(ids: readonly AgentIdentity[], cert: X509Certificate): AgentIdentity[] {
  const want = cert.publicKey.export({ type: 'spki', format: 'der' });
  return ids.filter((id) => id.publicKey?.export({ type: 'spki', format: 'der' }).equals(want));
}

export async function openSshAgentSigner(options: KeyMaterialOptions, env: NodeJS.ProcessEnv): Promise<Signer> {
  if (PREFIX.test(options.certificate)) {
    throw new AgentError('ARGUMENT_INVALID', `certificate ${options.certificate}: an ssh-agent holds keys, not certificates`, {
      hint: 'set certificate: to the certificate file and private_key: to ssh-agent:',
    });
  }
  const value = options.privateKey ?? '';
  const socket = agentSocket(value, env);
  const { readCertificateAndChain } = await import('../load.js');
  const { leaf, chain } = await readCertificateAndChain(options);
  const ids = await agentIdentities(socket);
  const match = matchingIdentities(ids, leaf)[0];
  if (!match && ids.length === 0) {
    // Retryable: keys get added and agents unlocked, and the profile should recover by itself then.
    throw new AgentError('SSH_AGENT', `the ssh-agent at ${socket} holds no keys, so none matches certificate ${options.certificate} (a locked agent lists none)`, {
      retryable: true,
      hint: "unlock the agent (ssh-add -X) or add the certificate's key (ssh-add KEYFILE)",
    });
  }
  if (!match) {
    const held = ids.map((i) => `${i.fingerprint} (${i.type}${i.comment ? ' ' + i.comment : ''})`).join(', ');
    throw new AgentError('KEY_MISMATCH', `no key in the ssh-agent at ${socket} matches certificate ${options.certificate}; it holds ${held}`, {
      hint: "add the certificate's key to the agent (ssh-add KEYFILE), or point certificate: at the certificate issued for one of its keys",
    });
  }
  const curve = leaf.publicKey.asymmetricKeyDetails?.namedCurve;
  if (leaf.publicKey.asymmetricKeyType === 'ec' && curve !== 'prime256v1') {
    throw new AgentError('KEY_INVALID', `certificate ${options.certificate} holds an EC key on ${curve}; an ssh-agent signs that curve with SHA-384/512, and IAM Roles Anywhere wants SHA-256`, {
      hint: 'use an RSA or P-256 key in the agent, or keep the P-384 key in a file or on a PKCS#11 token',
    });
  }
  const algorithm = algorithmForKeyType(leaf.publicKey.asymmetricKeyType);
  if (!algorithm) {
    throw new AgentError('KEY_INVALID', `certificate ${options.certificate} holds a ${leaf.publicKey.asymmetricKeyType} key; only RSA and EC P-256 keys can sign through an ssh-agent`);
  }
  return new SshAgentSigner(leaf, chain, algorithm, socket, match);
}

class SshAgentSigner implements Signer {
  readonly chain: readonly X509Certificate[];
  readonly description: string;
  constructor(
    readonly certificate: X509Certificate,
    chain: readonly X509Certificate[],
    readonly algorithm: SigningAlgorithm,
    private readonly socket: string,
    private readonly identity: AgentIdentity,
  ) {
    this.chain = Object.freeze([...chain]);
    this.description = `ssh-agent:${socket} (${identity.fingerprint})`;
  }

  async sign(data: Buffer): Promise<Buffer> {
    const { ecdsaBlobToDer, signWithAgent, SSH_AGENT_RSA_SHA2_256 } = await protocol();
    const rsa = this.algorithm === 'AWS4-X509-RSA-SHA256';
    let answer: { format: string; signature: Buffer };
    try {
      answer = await signWithAgent(this.socket, this.identity.blob, data, rsa ? SSH_AGENT_RSA_SHA2_256 : 0);
    } catch (e) {
      throw agentFailure(e, this.socket, `signing with ${this.identity.fingerprint}`);
    }
    const want = rsa ? 'rsa-sha2-256' : this.identity.type;
    if (answer.format !== want) {
      throw new AgentError('SSH_AGENT', `the ssh-agent at ${this.socket} answered a ${answer.format} signature where ${want} was asked for`, {
        hint: 'use an agent that supports rsa-sha2-256 signatures (OpenSSH 7.2 or later)',
      });
    }
    return rsa ? answer.signature : ecdsaBlobToDer(answer.signature);
  }

  async close(): Promise<void> {}
}

function agentFailure(e: unknown, socket: string, doing: string): AgentError {
  if (e instanceof AgentError) return e;
  if (isProtocolError(e)) {
    if (e.kind === 'unreachable') {
      return new AgentError('SSH_AGENT', `cannot reach the ssh-agent at ${socket} (${doing}): ${e.message}`, {
        retryable: true,
        cause: e,
        hint: 'start the agent, or check SSH_AUTH_SOCK / the ssh-agent: path; the profile recovers when the agent is back',
      });
    }
    if (e.kind === 'refused') {
      return new AgentError('SSH_AGENT', `the ssh-agent at ${socket} refused (${doing}): ${e.message}`, {
        retryable: true,
        cause: e,
        hint: 'unlock the agent (ssh-add -X) or confirm the key use; the profile recovers on the next attempt',
      });
    }
    return new AgentError('SSH_AGENT', `the ssh-agent at ${socket} gave an answer this client cannot read (${doing}): ${e.message}`, { cause: e });
  }
  return new AgentError('SSH_AGENT', `ssh-agent at ${socket} (${doing}): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

function isProtocolError(e: unknown): e is AgentProtocolError {
  return e instanceof Error && ['unreachable', 'refused', 'malformed'].includes((e as { kind?: string }).kind ?? '');
}
