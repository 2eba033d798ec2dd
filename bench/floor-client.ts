/**
 * The floor under the agent's "CPU per refresh" (bench/agent.ts runs this in its own process, against
 * the same emulator, in the same run): the same CreateSession calls made by the least code that can
 * make them, with no agent work (no jobs, timers, credentials file, logs or metrics), 32 at a time
 * like the agent, on kept-alive connections, with Node's default flags. Three ways:
 * - https: each call builds and signs the request with the project's request builder and FileSigner
 *   (canonical request, its SHA-256, one RSA-2048 signature), sends it with node:https, and checks
 *   the 201 and its JSON. What a client on the standard library cannot skip.
 * - raw: the same, but HTTP/1.1 written and read by hand on 32 TLS sockets: below what any real
 *   Node client costs (no header validation, no streams, no redirects or errors handled).
 * - rawUnsigned: raw, re-sending one request signed once, so no signature per call; raw minus
 *   rawUnsigned is what the signature costs inside a loop of requests.
 * - httpsFile: https, plus the one piece of an agent's work the design fixes: each call's credentials
 *   go into a credentials file of 1000 profiles (the call's profile is p0…p999 in turn), through the
 *   project's own CredentialsWriter (batched, atomic replace, fsync, both readers' check), not
 *   awaited by the call, as a job does not hold its slot while its profile is written.
 * - lean: httpsFile, plus what the least agent built on this project's pieces does per refresh: the
 *   reply's checks, the redactor, a log line, the profile's timer (httpsFileWay below). What is
 *   left between the agent and this way is its machinery (jobs, the limiter and token bucket,
 *   retries and cancelling, the watches, the state file) and the GC of its state.
 * Both file ways run in batches of 1000 calls (`--file-calls`), a burst of the agent's 1000 profiles.
 * Before the calls, a tight-loop RSA-2048 signature (median of 500), since the machine's speed drifts.
 * Each way is measured after a warm-up (`--warm-up`, 4000 calls for https): a fresh process's first
 * ~3000 calls cost 30-40 % more than its later ones (V8 tiering its code up, its heap growing), and a
 * floor measured in its warm-up made the agent, a long-running process, look cheaper than it is.
 *
 * Prints one JSON line: {"signatureMicros": n, "https" | "raw" | "rawUnsigned" | "httpsFile" | "lean":
 * {"batches": CPU µs per call of each batch (all threads), "median": their median, and for the file
 * ways "replaces" and "calls": replaces of the file in the batches, and the batches' calls}}.
 * Usage: node --import tsx bench/floor-client.ts --endpoint URL --ca FILE --certificate FILE
 *        --private-key FILE --trust-anchor ARN --profile ARN --role ARN [--calls N] [--batches B] [--warm-up N]
 *        [--only https | --only https,file]
 */
import { createPrivateKey, sign } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import { Writable } from 'node:stream';
import { connect, type TLSSocket } from 'node:tls';
import { parseArgs } from 'node:util';
import type { Credentials } from '../src/credentials.js';
import { CredentialsWriter } from '../src/credentials-file/writer.js';
import { loadFileSigner } from '../src/keys/load.js';
import { createLogger } from '../src/log/logger.js';
import { Redactor } from '../src/log/redact.js';
import { parseSessionReply } from '../src/rolesanywhere/reply.js';
import { buildSignedRequest, type SessionRequest, type SignedRequest } from '../src/rolesanywhere/request.js';

const CONCURRENCY = 32;
/**
 * Calls made before the raw ways' batches. By then the process is warm (the https way ran first, with
 * the same signer and request builder), and their own code is a few small functions.
 */
const RAW_WARM_UP = 1000;

const { values } = parseArgs({
  options: {
    endpoint: { type: 'string' },
    ca: { type: 'string' },
    certificate: { type: 'string' },
    'private-key': { type: 'string' },
    'trust-anchor': { type: 'string' },
    profile: { type: 'string' },
    role: { type: 'string' },
    calls: { type: 'string', default: '300' },
    /** Calls per batch of the file ways: one burst of the agent's 1000 profiles, its last replace flushed inside it. */
    'file-calls': { type: 'string', default: '1000' },
    batches: { type: 'string', default: '5' },
    /**
     * Idle ms before each batch (default 0; bench/agent-in-process.ts compares): the agent's bursts
     * come after idle gaps. Past the emulator's 5 s keep-alive, the batch reconnects, and a call
     * that meets a connection the server is closing is sent again (httpsCall).
     */
    'gap-ms': { type: 'string', default: '0' },
    /** Calls before the https way's batches; by 4000 a batch's CPU has stopped falling (measured 2026-12-06). */
    'warm-up': { type: 'string', default: '4000' },
    /** `https`: that way only (the bench's floors between its later refresh cycles); `https,file`: it and the two file ways. */
    only: { type: 'string' },
  },
});
const need = (name: keyof typeof values): string => {
  const v = values[name];
  if (typeof v !== 'string') throw new Error(`floor-client: --${name} is required`);
  return v;
};

if (Number(values['gap-ms']) > 0 && !values.only) {
  throw new Error('floor-client: --gap-ms needs --only https or --only https,file (the raw ways write on sockets the server would close during a gap)');
}
const endpoint = new URL(need('endpoint'));
const ca = readFileSync(need('ca'));
const signer = await loadFileSigner({ certificate: need('certificate'), privateKey: need('private-key') });
const session: SessionRequest = { trustAnchorArn: need('trust-anchor'), profileArn: need('profile'), roleArn: need('role'), durationSeconds: 3600 };
const signed = () => buildSignedRequest(endpoint.href, 'us-east-1', session, signer, Date.now());

function checked(status: number | undefined, body: string): void {
  if (status !== 201) throw new Error(`floor-client: CreateSession answered ${status}: ${body.slice(0, 200)}`);
  JSON.parse(body);
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca });
/**
 * One call; a call that fails on a kept-alive socket the server had just closed is sent again once
 * on a new one (`reusedSocket`, as node's documentation advises), as any client must after an idle
 * gap near the server's keep-alive timeout. The agent retries network errors too.
 */
async function httpsCall(req: SignedRequest, onReply?: (body: string) => void): Promise<void> {
  try {
    await httpsCallOnce(req, onReply);
  } catch (e) {
    if (!(e instanceof StaleSocket)) throw e;
    await httpsCallOnce(req, onReply);
  }
}

class StaleSocket extends Error {}

function httpsCallOnce(req: SignedRequest, onReply?: (body: string) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const r = request(req.url, { method: 'POST', headers: { ...req.headers, 'content-length': Buffer.byteLength(req.body) }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          const body = Buffer.concat(chunks).toString('utf8');
          checked(res.statusCode, body);
          onReply?.(body);
          resolve();
        } catch (e) {
          reject(e as Error);
        }
      });
      res.on('error', reject);
    });
    r.on('error', (e: NodeJS.ErrnoException) => reject(r.reusedSocket && e.code === 'ECONNRESET' ? new StaleSocket(e.message) : e));
    r.end(req.body);
  });
}

/** One request on a kept-alive TLS socket, HTTP/1.1 by hand: the emulator answers with a content-length. */
function rawCall(socket: TLSSocket, req: SignedRequest): Promise<void> {
  const url = new URL(req.url);
  let head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-length: ${Buffer.byteLength(req.body)}\r\n`;
  for (const [k, v] of Object.entries(req.headers)) if (k !== 'host') head += `${k}: ${v}\r\n`;
  socket.write(`${head}\r\n${req.body}`);
  return new Promise<void>((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (text.length - end - 4 < length) return;
      socket.off('data', onData);
      try {
        checked(Number(text.slice(9, 12)), Buffer.from(text.slice(end + 4, end + 4 + length), 'latin1').toString('utf8'));
        resolve();
      } catch (e) {
        reject(e as Error);
      }
    };
    socket.on('data', onData);
  });
}

/** CPU µs per call of n calls, CONCURRENCY at a time; worker i is the only user of the raw ways' sockets[i]. */
async function cpuPerCall(n: number, call: (worker: number) => Promise<void>, after?: () => Promise<void>): Promise<number> {
  let left = n;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      while (left-- > 0) await call(i);
    }),
  );
  await after?.();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

const gap = () => new Promise((r) => setTimeout(r, Number(values['gap-ms'])));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(warmUp: number, call: (worker: number) => Promise<void>): Promise<{ batches: number[]; median: number }> {
  await cpuPerCall(warmUp, call);
  const batches: number[] = [];
  for (let b = 0; b < Number(values.batches); b++) {
    await gap();
    batches.push(await cpuPerCall(Number(values.calls), call));
  }
  return { batches: batches.map(Math.round), median: median(batches) };
}

const key = createPrivateKey(readFileSync(need('private-key')));
const data = Buffer.alloc(200, 7);
for (let i = 0; i < 100; i++) sign('sha256', data, key);
const signatureTimes: number[] = [];
for (let i = 0; i < 500; i++) {
  const t = performance.now();
  sign('sha256', data, key);
  signatureTimes.push((performance.now() - t) * 1000);
}

/**
 * The https way, each call's credentials written to profile p0…p999 in turn of a credentials file
 * in its own temporary directory; the file is filled by the warm-up (4000 calls), so the batches
 * edit a full 1000-profile file, as the agent's cycles do.
 * With `lean`, also the rest of what the least agent on this project's pieces must do per refresh:
 * the reply's checks (parseSessionReply), its secrets held by the redactor, one JSON log line
 * through the project's winston logger (to /dev/null, written at once as the agent's stderr is), and
 * the profile's next-refresh timer re-armed. No jobs, limiter, token bucket, watches or state file.
 */
async function httpsFileWay(lean: boolean): Promise<{ batches: number[]; median: number; replaces: number; calls: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'ra-floor-'));
  const writer = new CredentialsWriter(join(dir, 'credentials'));
  const redactor = new Redactor();
  const devNull = openSync('/dev/null', 'w');
  const log = createLogger({ human: false, redactor, stream: new Writable({ write: (chunk: Buffer, _e, done) => (writeSync(devNull, chunk), done()) }) });
  const timers = new Map<string, NodeJS.Timeout>();
  let n = 0;
  const failed: unknown[] = [];
  const write = (body: string) => {
    const profile = `p${n++ % 1000}`;
    let credentials: Credentials;
    if (lean) {
      credentials = parseSessionReply({ status: 201, headers: {}, body }, Date.now(), `profile "${profile}"`, 3600).credentials;
      redactor.hold(`credentials:${profile}`, [credentials.secretAccessKey, credentials.sessionToken]);
    } else {
      const c = (JSON.parse(body) as { credentialSet: { credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: string } }[] }).credentialSet[0]!.credentials;
      credentials = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: new Date(c.expiration) };
    }
    const written = writer.write(profile, credentials);
    if (lean) {
      void written.then(() => {
        clearTimeout(timers.get(profile));
        const next = Date.now() + 2_700_000 + Math.random() * 300_000;
        timers.set(profile, setTimeout(() => {}, next - Date.now()).unref());
        log.info('credentials refreshed', { profile, expires: credentials.expiration.toISOString(), next_refresh: new Date(next).toISOString() });
      });
    }
    written.catch((e: unknown) => failed.push(e));
  };
  try {
    await cpuPerCall(Number(values['warm-up']), async () => httpsCall(await signed(), write));
    await writer.flush();
    const from = writer.replaceCount;
    const batches: number[] = [];
    for (let b = 0; b < Number(values.batches); b++) {
      await gap();
      // The batch's own replaces, flushed inside its CPU: a burst's last write is the agent's too.
      // A batch is a burst of 1000 (--file-calls), so that flush weighs what it weighs in a cycle.
      batches.push(await cpuPerCall(Number(values['file-calls']), async () => httpsCall(await signed(), write), () => writer.flush()));
    }
    if (failed.length) throw failed[0];
    return { batches: batches.map(Math.round), median: median(batches), replaces: writer.replaceCount - from, calls: batches.length * Number(values['file-calls']) };
  } finally {
    await writer.close();
    for (const t of timers.values()) clearTimeout(t);
    closeSync(devNull);
    rmSync(dir, { recursive: true, force: true });
  }
}

const https = await measure(Number(values['warm-up']), async () => httpsCall(await signed()));
if (values.only === 'https' || values.only === 'https,file') {
  const httpsFile = values.only === 'https,file' ? await httpsFileWay(false) : undefined;
  const lean = values.only === 'https,file' ? await httpsFileWay(true) : undefined;
  agent.destroy();
  console.log(JSON.stringify({ signatureMicros: median(signatureTimes), https, ...(httpsFile && { httpsFile, lean }) }));
  process.exit(0);
}
// The raw ways' own kept-alive sockets, opened only for them. They are never idle between batches
// (--gap-ms needs --only, checked above), so the server never closes them under a call.
const sockets = await Promise.all(
  Array.from(
    { length: CONCURRENCY },
    () =>
      new Promise<TLSSocket>((resolve, reject) => {
        const s = connect({ host: endpoint.hostname, port: Number(endpoint.port || 443), ca }, () => resolve(s));
        s.once('error', reject);
      }),
  ),
);
const raw = await measure(RAW_WARM_UP, async (i) => rawCall(sockets[i]!, await signed()));
const once = await signed();
const rawUnsigned = await measure(RAW_WARM_UP, (i) => rawCall(sockets[i]!, once));
const httpsFile = await httpsFileWay(false);
const lean = await httpsFileWay(true);
agent.destroy();
for (const s of sockets) s.destroy();
console.log(JSON.stringify({ signatureMicros: median(signatureTimes), https, raw, rawUnsigned, httpsFile, lean }));
