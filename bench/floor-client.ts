/**
 * The floor under the agent's "CPU per refresh" (bench/agent.ts runs this in its own process, against
 * the same emulator, in the same run): the same CreateSession calls made by the least code that can
 * make them. Each call builds and signs the request with the project's request builder and FileSigner
 * (canonical request, its SHA-256, one RSA-2048 signature), sends it with a bare node:https keep-alive
 * request, 32 at a time like the agent, and checks the 201 and its JSON. No agent work: no jobs, no
 * timers, no credentials file, no logs, no metrics. Node's default flags.
 *
 * First a tight-loop RSA-2048 signature (median of 500), then 200 calls to open the connections,
 * then B batches of N calls. Prints one JSON line: {"batches": CPU µs per call of each batch (all
 * threads), "callMicros": their median, "signatureMicros": the signature's median}.
 * Usage: node --import tsx bench/floor-client.ts --endpoint URL --ca FILE --certificate FILE
 *        --private-key FILE --trust-anchor ARN --profile ARN --role ARN [--calls N] [--batches B]
 */
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { parseArgs } from 'node:util';
import { loadFileSigner } from '../src/keys/load.js';
import { buildSignedRequest, type SessionRequest } from '../src/rolesanywhere/request.js';

const CONCURRENCY = 32;
const WARM_UP = 200;

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
    batches: { type: 'string', default: '5' },
  },
});
const need = (name: keyof typeof values): string => {
  const v = values[name];
  if (typeof v !== 'string') throw new Error(`floor-client: --${name} is required`);
  return v;
};

const endpoint = need('endpoint');
const signer = await loadFileSigner({ certificate: need('certificate'), privateKey: need('private-key') });
const session: SessionRequest = { trustAnchorArn: need('trust-anchor'), profileArn: need('profile'), roleArn: need('role'), durationSeconds: 3600 };
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: readFileSync(need('ca')) });

async function call(): Promise<void> {
  const req = await buildSignedRequest(endpoint, 'us-east-1', session, signer, Date.now());
  await new Promise<void>((resolve, reject) => {
    const r = request(req.url, { method: 'POST', headers: { ...req.headers, 'content-length': Buffer.byteLength(req.body) }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 201) return reject(new Error(`floor-client: CreateSession answered ${res.statusCode}`));
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
        resolve();
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

async function calls(n: number): Promise<void> {
  let left = n;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) await call();
    }),
  );
}

// A tight-loop signature in this process, right before its calls: the machine's speed drifts.
const key = createPrivateKey(readFileSync(need('private-key')));
const data = Buffer.alloc(200, 7);
for (let i = 0; i < 100; i++) sign('sha256', data, key);
const signatureTimes: number[] = [];
for (let i = 0; i < 500; i++) {
  const t = performance.now();
  sign('sha256', data, key);
  signatureTimes.push((performance.now() - t) * 1000);
}

await calls(WARM_UP); // opens the connections, as the agent's are open before its refresh cycle
const batches = Number(values.batches);
const perCall: number[] = [];
for (let b = 0; b < batches; b++) {
  const before = process.cpuUsage();
  await calls(Number(values.calls));
  const used = process.cpuUsage(before);
  perCall.push((used.user + used.system) / Number(values.calls));
}
agent.destroy();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(JSON.stringify({ batches: perCall.map(Math.round), callMicros: median(perCall), signatureMicros: median(signatureTimes) }));
