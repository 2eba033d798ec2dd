/**
 * Proxy benchmarks (`node --import tsx bench/proxy.ts` after `npm run build`): the built CLI behind
 * proxies that are tiny net.Servers on 127.0.0.1 counting connections, with the default timeouts
 * (connect 10 s, 30 s per attempt, at most 4 attempts within 30 s):
 * - credential-process through a proxy that closes each connection without answering CONNECT, one
 *   that never answers (a black hole), and a port nobody listens on: exit code, time to the error,
 *   connections to the proxy;
 * - `once` filling 100 profiles through a working CONNECT proxy: tunnels opened (keep-alive reuse)
 *   and wall time, beside the same fill going direct;
 * - one keep-alive request through the proxy against one direct (wall µs, 2000 sequential POSTs
 *   in this process; the proxy runs in this process too, so this is an upper bound).
 * Prints a Markdown table for docs/benchmarks.md. The machine is shared: quote one run's numbers.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { makeTransport } from '../src/rolesanywhere/transport.js';
import { scheduleDoc, writeSchedule } from '../test/agent/fixtures/schedule.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN } from '../test/helpers/world.js';

const MAIN = resolve(import.meta.dirname, '..', 'dist', 'src', 'main.js');

interface Proxy {
  url: string;
  connections(): number;
  close(): void;
}

async function listen(server: Server, count: () => number, open: Set<Socket>): Promise<Proxy> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: count,
    close: () => {
      for (const s of open) s.destroy();
      server.close();
    },
  };
}

function badProxy(mode: 'close' | 'black-hole'): Promise<Proxy> {
  let n = 0;
  const open = new Set<Socket>();
  const server = createServer((c) => {
    n++;
    open.add(c);
    c.on('close', () => open.delete(c)).on('error', () => {});
    if (mode === 'close') c.once('data', () => c.destroy());
    else c.resume();
  });
  return listen(server, () => n, open);
}

function goodProxy(): Promise<Proxy> {
  let n = 0;
  const open = new Set<Socket>();
  const server = createHttpServer((_q, s) => s.writeHead(405).end());
  server.on('connect', (req, client: Socket) => {
    n++;
    const [host, port] = (req.url ?? '').split(':');
    const up = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.pipe(client).pipe(up);
    });
    for (const s of [client, up]) {
      open.add(s);
      s.on('close', () => open.delete(s)).on('error', () => {
        client.destroy();
        up.destroy();
      });
    }
  });
  return listen(server, () => n, open);
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; ms: number; stderr: string }> {
  const started = performance.now();
  return new Promise((res) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env['PATH'], ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => res({ code, ms: Math.round(performance.now() - started), stderr }));
  });
}

const w = await makeWorld();
const rows: string[] = [];
try {
  const cpArgs = [
    'credential-process',
    ...['--certificate', w.ecFiles.certificate, '--private-key', w.ecFiles.privateKey],
    ...['--trust-anchor-arn', TRUST_ANCHOR_ARN, '--profile-arn', PROFILE_ARN, '--role-arn', roleArn('app')],
    ...['--endpoint', w.emulator.httpsUrl!, '--ca-bundle', w.caBundle],
  ];
  for (const mode of ['close', 'black-hole', 'refused'] as const) {
    const p = mode === 'refused' ? await badProxy('close') : await badProxy(mode);
    if (mode === 'refused') p.close(); // nobody listens on that port any more
    const r = await runCli(cpArgs, { HOME: w.dir, HTTPS_PROXY: p.url });
    rows.push(`| credential-process, proxy that ${mode === 'close' ? 'closes without answering CONNECT' : mode === 'black-hole' ? 'never answers' : 'refuses connections'} | exit ${r.code} after ${r.ms} ms | ${mode === 'refused' ? '— (refused)' : p.connections()} |`);
    p.close();
  }

  const N = 100;
  const fill = async (viaProxy: boolean) => {
    const dir = join(w.dir, viaProxy ? 'proxied' : 'direct');
    mkdirSync(dir, { recursive: true });
    const profiles = Object.fromEntries(Array.from({ length: N }, (_, i) => [`p${i}`, { role: 'app', key: w.ecFiles }]));
    const path = writeSchedule(join(dir, 'schedule.yaml'), scheduleDoc(w, join(dir, 'credentials'), profiles, { rate_limit: { per_second: 100, burst: 100, concurrency: 4 } }));
    const p = viaProxy ? await goodProxy() : undefined;
    const r = await runCli(['once', '--config', path], { HOME: w.dir, ...(p ? { HTTPS_PROXY: p.url } : {}) });
    if (r.code !== 0) throw new Error(`once failed (${r.code}): ${r.stderr}`);
    p?.close();
    return { ms: r.ms, tunnels: p?.connections() };
  };
  const direct = await fill(false);
  const proxied = await fill(true);
  rows.push(`| once, ${N} profiles, 4 calls at a time, direct | ${direct.ms} ms | — |`);
  rows.push(`| once, ${N} profiles, 4 calls at a time, through a CONNECT proxy | ${proxied.ms} ms | ${proxied.tunnels} tunnels |`);

  const perRequest = async (viaProxy: boolean) => {
    const p = viaProxy ? await goodProxy() : undefined;
    const t = makeTransport({ caBundle: w.caBundle }, p ? { HTTPS_PROXY: p.url } : {});
    const url = `${w.emulator.httpsUrl!}/sessions`;
    for (let i = 0; i < 100; i++) await t.post(url, { 'content-type': 'application/json' }, '{}');
    const started = performance.now();
    for (let i = 0; i < 2000; i++) await t.post(url, { 'content-type': 'application/json' }, '{}');
    const us = Math.round(((performance.now() - started) * 1000) / 2000);
    await t.close();
    p?.close();
    return { us, tunnels: p?.connections() };
  };
  const d = await perRequest(false);
  const v = await perRequest(true);
  rows.push(`| one keep-alive request (an unsigned POST the emulator refuses), direct | ${d.us} µs | — |`);
  rows.push(`| the same through the CONNECT proxy (in this process) | ${v.us} µs | ${v.tunnels} tunnel for 2100 requests |`);
} finally {
  await w.cleanup();
}
console.log('| measure | result | connections to the proxy |');
console.log('|---|---|---|');
for (const r of rows) console.log(r);
