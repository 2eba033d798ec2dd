/**
 * openPkcs11Signer: a Signer whose private key stays on a PKCS#11 token. It selects the token and
 * the key by the key's pkcs11: URI, takes the certificate from a file or from the token (same
 * CKA_ID, else same label, as the key) with intermediates found on the token, picks the mechanism
 * by the key type and what the token offers, and checks once, with a test signature verified
 * against the certificate, that key and certificate belong together. Signing goes through the
 * token's shared session and queue (see token.ts for recovery and the PIN guard).
 */
import { createHash, randomBytes, verify as verifySignature, type X509Certificate } from 'node:crypto';
import type { Handle, Mechanism } from 'pkcs11js';
import { AgentError, isAgentError } from '../../errors.js';
import type { Clock } from '../../time/clock.js';
import type { KeyMaterialOptions } from '../options.js';
import type { Signer, SigningAlgorithm } from '../signer.js';
import { ckrName, classifyCkr, returnValueOf } from './ckr.js';
import { ecdsaRawToDer, sha256DigestInfo } from './der.js';
import { resolveModulePath } from './library.js';
import { chainFrom, describeInventory, findObjects, inventory, objectTemplate, summarize, type Ctx, type ObjectSummary } from './objects.js';
import { readCertificates } from './pem.js';
import { choosePinSource, type PinLogger } from './pin.js';
import { Pkcs11Registry } from './registry.js';
import type { Auth, TokenSession } from './token.js';
import { formatPkcs11Uri, isPkcs11Uri, parsePkcs11Uri, redact, type Pkcs11Uri } from './uri.js';

export interface Pkcs11SignerDeps {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  logger?: PinLogger;
  /** Shared by every signer of the agent so one token has one session; a private one otherwise. */
  registry?: Pkcs11Registry;
  /** Looks for files (the p11-kit proxy); tests point it elsewhere. */
  exists?: (path: string) => boolean;
}

const TOKEN_ATTRIBUTES = ['token', 'manufacturer', 'serial', 'model', 'slotId', 'slotDescription', 'slotManufacturer'] as const;

type SignMode = 'sha256-rsa-pkcs' | 'rsa-pkcs' | 'ecdsa' | 'ecdsa-sha256';

/** The largest signature expected: RSA-8192 is 1024 bytes. */
const SIGNATURE_BUFFER = 1024;

function pkcs11Failure(e: unknown, context: string): AgentError {
  if (isAgentError(e)) return e;
  const rv = returnValueOf(e);
  if (rv === undefined) return new AgentError('PKCS11', `${context}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  const cls = classifyCkr(rv);
  return new AgentError('PKCS11', `${context}: ${ckrName(rv)}`, {
    retryable: cls === 'reopen' || cls === 'transient',
    hint:
      cls === 'reopen' || cls === 'transient'
        ? 'the token or its session went away; the agent reopens it and retries with backoff'
        : 'check that the key may sign (CKA_SIGN) and the token supports the mechanism',
    cause: e,
  });
}

function chooseMode(mechanisms: readonly number[], keyType: ObjectSummary['keyType'], ctx: Ctx, where: string): SignMode {
  const { api } = ctx;
  if (keyType === 'rsa') {
    if (mechanisms.includes(api.CKM_SHA256_RSA_PKCS)) return 'sha256-rsa-pkcs';
    if (mechanisms.includes(api.CKM_RSA_PKCS)) return 'rsa-pkcs';
    throw new AgentError('PKCS11', `${where} offers neither CKM_SHA256_RSA_PKCS nor CKM_RSA_PKCS for its RSA key`, {
      hint: 'use a token or module that supports RSA PKCS#1 v1.5 signatures',
    });
  }
  if (keyType === 'ec') {
    if (mechanisms.includes(api.CKM_ECDSA)) return 'ecdsa';
    if (mechanisms.includes(api.CKM_ECDSA_SHA256)) return 'ecdsa-sha256';
    throw new AgentError('PKCS11', `${where} offers neither CKM_ECDSA nor CKM_ECDSA_SHA256 for its EC key`, {
      hint: 'use a token or module that supports ECDSA',
    });
  }
  throw new AgentError('KEY_INVALID', `the key on ${where} is neither RSA nor EC`, { hint: 'Roles Anywhere accepts RSA and EC (ECDSA) keys' });
}

function mechanismOf(mode: SignMode, ctx: Ctx): Mechanism {
  const { api } = ctx;
  const mechanism = {
    'sha256-rsa-pkcs': api.CKM_SHA256_RSA_PKCS,
    'rsa-pkcs': api.CKM_RSA_PKCS,
    ecdsa: api.CKM_ECDSA,
    'ecdsa-sha256': api.CKM_ECDSA_SHA256,
  }[mode];
  return { mechanism };
}

/** What goes into C_Sign for `data`, and what comes out as the CreateSession signature. */
function signInput(mode: SignMode, data: Buffer): Buffer {
  if (mode === 'sha256-rsa-pkcs' || mode === 'ecdsa-sha256') return data;
  const hash = createHash('sha256').update(data).digest();
  return mode === 'rsa-pkcs' ? sha256DigestInfo(hash) : hash;
}

function signOutput(mode: SignMode, raw: Buffer): Buffer {
  return mode === 'ecdsa' || mode === 'ecdsa-sha256' ? ecdsaRawToDer(raw) : Buffer.from(raw);
}

function algorithmOf(keyType: ObjectSummary['keyType']): SigningAlgorithm {
  return keyType === 'rsa' ? 'AWS4-X509-RSA-SHA256' : 'AWS4-X509-ECDSA-SHA256';
}

interface KeyChoice {
  key: ObjectSummary;
  mechanisms: number[];
}

function findKey(ctx: Ctx, session: Handle, token: TokenSession, uri: Pkcs11Uri, uriText: string): KeyChoice {
  const handles = findObjects(ctx, session, objectTemplate(ctx.api, uri, 'private'));
  if (handles.length !== 1) {
    const all = inventory(ctx, session);
    if (handles.length === 0) {
      // The token answered and the key is not on it: a wrong object=/id= that no retry will cure.
      throw new AgentError('PKCS11_OBJECT_NOT_FOUND', `no private key matches ${redact(uriText)} on ${token.name}; the token holds: ${describeInventory(all, true)}`, {
        retryable: false,
        hint: `fix object=/id= in ${redact(uriText)}; \`rolesanywhere-agent list-certs --pkcs11-lib ${token.module.path} '${formatPkcs11Uri({ token: token.facts.label })}'\` prints the URI of each key on the token`,
      });
    }
    throw new AgentError('PKCS11', `${handles.length} private keys match ${redact(uriText)} on ${token.name}; the token holds: ${describeInventory(all, true)}`, {
      hint: 'add id= or object= to the URI so it names one key',
    });
  }
  const key = summarize(ctx, session, handles[0]!);
  let mechanisms: number[];
  try {
    mechanisms = ctx.lib.C_GetMechanismList(token.slot);
  } catch (e) {
    throw pkcs11Failure(e, `cannot list the mechanisms of ${token.name}`);
  }
  return { key, mechanisms };
}

/** The certificate for `key` on the token: the URI's id/object if given, else the key's id, else its label. */
function findCertificate(ctx: Ctx, session: Handle, token: TokenSession, certUri: Pkcs11Uri, certText: string, key: ObjectSummary): { leaf: X509Certificate; pool: X509Certificate[] } {
  const named = certUri.id !== undefined || certUri.object !== undefined;
  const selector: Pick<Pkcs11Uri, 'id' | 'object'> = named ? certUri : key.id.length ? { id: key.id } : { object: key.label };
  const found = findObjects(ctx, session, objectTemplate(ctx.api, selector, 'cert'))
    .map((h) => summarize(ctx, session, h).certificate)
    .filter((c): c is X509Certificate => c !== undefined);
  if (!found.length) {
    const by = named ? redact(certText) : key.id.length ? `the key's id` : `the key's label "${key.label}"`;
    throw new AgentError('CERTIFICATE_INVALID', `no X.509 certificate matches ${by} on ${token.name}; the token holds: ${describeInventory(inventory(ctx, session), true)}`, {
      hint: 'write the certificate to the token with the key\'s CKA_ID (pkcs11-tool --write-object cert.der --type cert --id …), or give certificate: as a file',
    });
  }
  // A renewed certificate often sits beside the old one under the same id: take the newest.
  const leaf = found.reduce((a, b) => (Date.parse(b.validTo) > Date.parse(a.validTo) ? b : a));
  const pool = findObjects(ctx, session, [{ type: ctx.api.CKA_CLASS, value: ctx.api.CKO_CERTIFICATE }])
    .map((h) => summarize(ctx, session, h).certificate)
    .filter((c): c is X509Certificate => c !== undefined);
  return { leaf, pool };
}

export async function openPkcs11Signer(options: KeyMaterialOptions, deps: Pkcs11SignerDeps = {}): Promise<Signer> {
  const env = deps.env ?? process.env;
  const logger = deps.logger;
  const keyText = options.privateKey ?? (isPkcs11Uri(options.certificate) ? options.certificate : undefined);
  if (!isPkcs11Uri(keyText)) {
    throw new AgentError('CONFIG_INVALID', `private key ${keyText ?? '(none)'} is not a pkcs11: URI`, { hint: 'give the key as pkcs11:token=…;object=…' });
  }
  const keyUri = parsePkcs11Uri(keyText);
  if (keyUri.type !== undefined && keyUri.type !== 'private' && keyText !== options.certificate) {
    throw new AgentError('CONFIG_INVALID', `private key URI ${redact(keyText)} has type=${keyUri.type}`, { hint: 'use type=private, or leave type out' });
  }
  if (keyText === options.certificate) delete keyUri.type;
  const certFromToken = isPkcs11Uri(options.certificate);
  const certUri = certFromToken ? parsePkcs11Uri(options.certificate) : undefined;
  if (certUri?.type !== undefined && certUri.type !== 'cert' && options.privateKey !== undefined) {
    throw new AgentError('CONFIG_INVALID', `certificate URI ${redact(options.certificate)} has type=${certUri.type}`, { hint: 'use type=cert, or leave type out' });
  }
  const modulePath = resolveModulePath({ uriModulePath: keyUri.modulePath, configured: options.pkcs11Lib, exists: deps.exists });
  const pin = choosePinSource({ pin: options.pin, uri: keyUri, env, logger });
  const auth: Auth = { pin, logger };
  const registry = deps.registry ?? new Pkcs11Registry({ ...(deps.clock ? { clock: deps.clock } : {}) });
  const description = redact(keyText);

  const module = await registry.acquireModule(modulePath);
  let token: TokenSession | undefined;
  try {
    token = registry.acquireToken(module, registry.selectToken(module, keyUri, keyText));
    const ctx: Ctx = { api: module.api, lib: module.lib };
    const tokenRef = token;
    const found = await token.run((s) => findKey(ctx, s, tokenRef, keyUri, keyText), auth);
    const { key } = found;
    const where = `${description} (${token.name})`;
    const mode = chooseMode(found.mechanisms, key.keyType, ctx, token.name);
    if (key.alwaysAuthenticate && !options.reusePin) {
      throw new AgentError('PKCS11', `the key ${where} requires the PIN before every signature (CKA_ALWAYS_AUTHENTICATE)`, {
        hint: 'set reuse_pin: true in the schedule (or --reuse-pin) so the agent logs in again with the same PIN before each signature',
      });
    }
    if (mode === 'rsa-pkcs') logger?.('info', `${token.name} lacks CKM_SHA256_RSA_PKCS; signing with CKM_RSA_PKCS over a SHA-256 DigestInfo`);

    let leaf: X509Certificate;
    let chain: X509Certificate[] = [];
    if (certUri) {
      const certModule = resolveModulePath({ uriModulePath: certUri.modulePath ?? keyUri.modulePath, configured: options.pkcs11Lib, exists: deps.exists });
      const cm = certModule === modulePath ? module : await registry.acquireModule(certModule);
      try {
        // A certificate URI that names no token means the key's token.
        const namesToken = TOKEN_ATTRIBUTES.some((a) => certUri[a] !== undefined);
        const ct = namesToken || cm !== module ? registry.acquireToken(cm, registry.selectToken(cm, certUri, options.certificate)) : registry.acquireToken(module, token.facts);
        try {
          // Same token: its logged-in session; another token: a public session, never this PIN.
          const got = await ct.run((s) => findCertificate({ api: cm.api, lib: cm.lib }, s, ct, certUri, options.certificate, key), ct === token ? auth : null);
          leaf = got.leaf;
          if (!options.intermediates) chain = chainFrom(leaf, got.pool);
        } finally {
          await registry.releaseToken(ct);
        }
      } finally {
        if (cm !== module) registry.releaseModule(cm);
      }
    } else {
      const certs = readCertificates(options.certificate);
      leaf = certs[0]!;
      chain = certs.slice(1);
    }
    if (options.intermediates) chain = readCertificates(options.intermediates, 'intermediates file');

    const wantType = key.keyType === 'rsa' ? 'rsa' : 'ec';
    if (leaf.publicKey.asymmetricKeyType !== wantType) {
      throw new AgentError('KEY_MISMATCH', `certificate ${certUri ? redact(options.certificate) : options.certificate} holds a ${leaf.publicKey.asymmetricKeyType} key but ${where} is ${wantType}`, {
        hint: 'point certificate: at the certificate issued for this key',
      });
    }

    const signer = new TokenSigner(registry, token, key, mode, ctx, auth, keyUri, description, leaf, chain, algorithmOf(key.keyType));
    // Proves the whole path (login, mechanism, DER conversion) and that key and certificate match.
    const challenge = randomBytes(32);
    let ok = false;
    try {
      ok = verifySignature('sha256', challenge, { key: leaf.publicKey, dsaEncoding: 'der' }, await signer.sign(challenge));
    } catch (e) {
      throw pkcs11Failure(e, `test signature with ${where} failed`);
    }
    if (!ok) {
      throw new AgentError('KEY_MISMATCH', `the certificate ${leaf.subject.replace(/\n/g, ', ')} does not match the key ${where}`, {
        hint: 'point certificate: at the certificate issued for this key (list-certs shows serials and ids)',
      });
    }
    token = undefined; // owned by the signer from here on
    return signer;
  } catch (e) {
    throw pkcs11Failure(e, `opening the key ${description}`);
  } finally {
    if (token) await registry.releaseToken(token);
    registry.releaseModule(module);
  }
}

class TokenSigner implements Signer {
  private closed = false;
  private keyHandle: Handle;
  private keyEpoch: number;
  private readonly alwaysAuthenticate: boolean;

  constructor(
    private readonly registry: Pkcs11Registry,
    private readonly token: TokenSession,
    key: ObjectSummary,
    private readonly mode: SignMode,
    private readonly ctx: Ctx,
    private readonly auth: Auth,
    private readonly keyUri: Pkcs11Uri,
    readonly description: string,
    readonly certificate: X509Certificate,
    readonly chain: readonly X509Certificate[],
    readonly algorithm: SigningAlgorithm,
  ) {
    this.keyHandle = key.handle;
    this.keyEpoch = token.epoch;
    this.alwaysAuthenticate = key.alwaysAuthenticate === true;
  }

  private currentKey(session: Handle): Handle {
    if (this.keyEpoch === this.token.epoch) return this.keyHandle;
    // A new session (reopened token, re-initialised library): object handles may have changed.
    const handles = findObjects(this.ctx, session, objectTemplate(this.ctx.api, this.keyUri, 'private'));
    if (handles.length !== 1) {
      throw new AgentError('PKCS11', `the key ${this.description} is no longer on ${this.token.name} (${handles.length} matches after reopening)`, {
        hint: 'check the token; `rolesanywhere-agent list-certs` shows what it holds',
      });
    }
    this.keyHandle = handles[0]!;
    this.keyEpoch = this.token.epoch;
    return this.keyHandle;
  }

  async sign(data: Buffer): Promise<Buffer> {
    if (this.closed) throw new AgentError('PKCS11', `the signer for ${this.description} is closed`, { hint: 'open it again' });
    const input = signInput(this.mode, data);
    const mechanism = mechanismOf(this.mode, this.ctx);
    try {
      return await this.token.run(async (session) => {
        const key = this.currentKey(session);
        const { lib } = this.ctx;
        lib.C_SignInit(session, mechanism, key);
        if (this.alwaysAuthenticate) this.token.loginContext(session, this.auth);
        const raw = await lib.C_SignAsync(session, input, Buffer.alloc(SIGNATURE_BUFFER));
        return signOutput(this.mode, raw);
      }, this.auth);
    } catch (e) {
      throw pkcs11Failure(e, `signing with ${this.description} on ${this.token.name} failed`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.registry.releaseToken(this.token);
  }
}
