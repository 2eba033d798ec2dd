/**
 * The transport on loopback against real servers: node:https when no proxy is configured (keep-alive,
 * TLS verification, connect and total timeouts, a reply cut short, cancellation), CONNECT tunnels
 * through the proxy HTTPS_PROXY names, and NO_PROXY bypassing it.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { generateTlsIdentity, type TlsIdentity } from '../../src/emulator/tls.js';
import { AgentError } from '../../src/errors.js';
import { bypassesProxy } from '../../src/rolesanywhere/proxy.js';
import { HttpsTransport } from '../../src/rolesanywhere/https-transport.js';
import { MAX_REPLY_BYTES } from '../../src/rolesanywhere/send-request.js';
import { makeTransport, proxySettings, type Transport } from '../../src/rolesanywhere/transport.js';
import { makeTempDir } from '../helpers/tmp.js';

type AnyServer = HttpServer | HttpsServer | NetServer;

async function listen<S extends AnyServer>(server: S): Promise<{ server: S; port: number }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return expect.fail('expected a throw');
}

async function rejection(p: Promise<unknown>): Promise<AgentError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(AgentError);
    return e as AgentError;
  }
  expect.fail('expected the request to fail');
}

describe('transport', function () {
  this.timeout(20_000);
  let tls: TlsIdentity;
  let caFile: string;
  let cleanup: () => void;
  const servers: AnyServer[] = [];
  const sockets = new Set<Socket>();
  const transports: Transport[] = [];

  before(async () => {
    tls = await generateTlsIdentity();
    const tmp = makeTempDir('ra-transport-');
    cleanup = tmp.cleanup;
    caFile = join(tmp.dir, 'ca.pem');
    writeFileSync(caFile, tls.caPem);
  });
  after(() => cleanup());
  afterEach(async () => {
    for (const t of transports.splice(0)) await t.close();
    for (const s of sockets) s.destroy();
    sockets.clear();
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  function track<S extends AnyServer>(server: S): S {
    servers.push(server);
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    return server;
  }

  function keep<T extends Transport>(t: T): T {
    transports.push(t);
    return t;
  }

  /** An HTTP proxy that opens CONNECT tunnels, as corporate proxies do; records each tunnel's target. */
  /**
   * A CONNECT proxy; with `requireAuth`, one that answers 407 unless Proxy-Authorization is exactly
   * that; with `overTls`, one reached over TLS (an https:// proxy) with the test CA's certificate.
   */
  async function connectProxy(requireAuth?: string, overTls = false) {
    const tunnels: string[] = [];
    const auths: Array<string | undefined> = [];
    const refuse = (_req: unknown, res: { writeHead(n: number): { end(): void } }) => res.writeHead(405).end();
    const proxy = track(overTls ? createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, refuse) : createHttpServer(refuse));
    proxy.on('connect', (req, client: Socket, head: Buffer) => {
      auths.push(req.headers['proxy-authorization']);
      if (requireAuth !== undefined && req.headers['proxy-authorization'] !== requireAuth) {
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\n\r\n');
        return;
      }
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client).pipe(upstream);
      });
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    const { port } = await listen(proxy);
    return { port, tunnels, auths };
  }

  /** An HTTPS server answering every POST with its body echoed; counts TLS connections. */
  async function echoServer() {
    let connections = 0;
    const seen: Array<Record<string, string | string[] | undefined>> = [];
    const server = track(
      createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
        seen.push(req.headers);
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          res.writeHead(201, { 'Content-Type': 'application/json', 'X-Amzn-RequestId': 'req-1' });
          res.end(Buffer.concat(chunks));
        });
      }),
    );
    server.on('secureConnection', () => connections++);
    const { port } = await listen(server);
    return { port, url: `https://127.0.0.1:${port}/sessions?x=1`, connections: () => connections, seen };
  }

  it('posts over node:https on one kept-alive connection and returns status, lower-cased headers and body', async () => {
    const echo = await echoServer();
    const t = keep(makeTransport({ caBundle: caFile, userAgent: 'test-agent/1' }, {}));
    expect(t).to.be.instanceOf(HttpsTransport);
    for (let i = 0; i < 3; i++) {
      const r = await t.post(echo.url, { 'content-type': 'application/json', 'x-amz-date': '20261122T000000Z' }, `{"n":${i}}`);
      expect(r).to.deep.include({ status: 201, body: `{"n":${i}}` });
      expect(r.headers['x-amzn-requestid']).to.equal('req-1');
    }
    expect(echo.connections(), 'TLS connections for 3 requests').to.equal(1);
    expect(echo.seen[0]).to.include({ 'user-agent': 'test-agent/1', 'content-length': '7', 'x-amz-date': '20261122T000000Z' });
  });

  it('sends each header once: the caller\'s, the URL\'s host when the caller gave none, its own user-agent and content-length over the caller\'s', async () => {
    const raw: string[][] = [];
    const server = track(
      createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
        raw.push(req.rawHeaders);
        req.resume();
        req.on('end', () => res.writeHead(201).end('{}'));
      }),
    );
    const { port } = await listen(server);
    const t = keep(makeTransport({ caBundle: caFile, userAgent: 'test-agent/2' }, {}));
    const url = `https://127.0.0.1:${port}/sessions`;
    await t.post(url, { 'x-amz-date': '20261122T000000Z', 'User-Agent': 'caller/1', 'Content-Length': '999' }, '{"a":1}');
    await t.post(url, { host: 'signed.example:443', 'x-amz-date': '20261122T000000Z' }, '{}');
    const pairs = (r: string[]) => Array.from({ length: r.length / 2 }, (_, i) => [r[2 * i]!.toLowerCase(), r[2 * i + 1]!]);
    const first = pairs(raw[0]!);
    const count = (name: string) => first.filter(([k]) => k === name).length;
    expect(['host', 'user-agent', 'content-length', 'x-amz-date'].map(count), 'times host, user-agent, content-length, x-amz-date were sent').to.deep.equal([1, 1, 1, 1]);
    expect(Object.fromEntries(first)).to.include({ host: `127.0.0.1:${port}`, 'user-agent': 'test-agent/2', 'content-length': '7' });
    expect(Object.fromEntries(pairs(raw[1]!)), 'the caller\'s (signed) host header').to.include({ host: 'signed.example:443' });
  });

  it('refuses a header value with a line break before anything is sent, naming no value', async () => {
    const echo = await echoServer();
    const t = keep(makeTransport({ caBundle: caFile }, {}));
    const e = await t.post(echo.url, { 'x-amz-date': 'a\r\nx-injected: 1' }, '{}').then(
      () => expect.fail('expected a refusal'),
      (err: unknown) => err as Error,
    );
    expect(String(e)).to.not.contain('x-injected');
    expect(echo.seen, 'requests the server saw').to.have.length(0);
  });

  it('joins a repeated reply header (set-cookie) with ", " and passes single ones through', async () => {
    const server = track(
      createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
        req.resume();
        req.on('end', () => {
          res.setHeader('set-cookie', ['a=1', 'b=2']);
          res.writeHead(201, { 'x-amzn-requestid': 'req-9' }).end('{}');
        });
      }),
    );
    const { port } = await listen(server);
    const r = await keep(makeTransport({ caBundle: caFile }, {})).post(`https://127.0.0.1:${port}/sessions`, {}, '{}');
    expect(r.headers).to.include({ 'set-cookie': 'a=1, b=2', 'x-amzn-requestid': 'req-9' });
  });

  it('posts over plain HTTP to a loopback http:// endpoint (the emulator), on one kept-alive connection', async () => {
    let connections = 0;
    const server = track(
      createHttpServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          res.writeHead(201, { 'Content-Type': 'application/json' });
          res.end(Buffer.concat(chunks));
        });
      }),
    );
    server.on('connection', () => connections++);
    const { port } = await listen(server);
    const t = keep(makeTransport({ caBundle: caFile }, {}));
    for (let i = 0; i < 3; i++) expect(await t.post(`http://127.0.0.1:${port}/sessions`, {}, `{"n":${i}}`)).to.deep.include({ status: 201, body: `{"n":${i}}` });
    expect(connections, 'TCP connections for 3 requests').to.equal(1);
  });

  it('refuses a server it cannot verify with a TLS error naming --ca-bundle, not retryable; only an explicit opt-out skips the check', async () => {
    const echo = await echoServer();
    const e = await rejection(keep(new HttpsTransport({})).post(echo.url, {}, '{}'));
    expect(e.code).to.equal('TLS');
    expect(e.retryable).to.equal(false);
    expect(e.hint).to.contain('--ca-bundle');
    const r = await keep(new HttpsTransport({ noVerifySsl: true })).post(echo.url, {}, '{}');
    expect(r.status).to.equal(201);
  });

  it('times out at the connect timeout when the server never completes the TLS handshake', async () => {
    const { port } = await listen(track(createNetServer(() => {})));
    const started = Date.now();
    const e = await rejection(keep(new HttpsTransport({ caBundle: caFile, connectTimeoutMs: 300, totalTimeoutMs: 10_000 })).post(`https://127.0.0.1:${port}/sessions`, {}, '{}'));
    expect(e.code).to.equal('TIMEOUT');
    expect(e.retryable).to.equal(true);
    expect(Date.now() - started, 'ms until the timeout').to.be.below(5_000);
  });

  it('times out at the total timeout when the reply never comes', async () => {
    const server = track(createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, () => {}));
    const { port } = await listen(server);
    const e = await rejection(keep(new HttpsTransport({ caBundle: caFile, totalTimeoutMs: 300 })).post(`https://127.0.0.1:${port}/sessions`, {}, '{}'));
    expect(e.code).to.equal('TIMEOUT');
    expect(e.message).to.contain('took longer than 300 ms');
  });

  it('reports a reply cut short as a retryable network error', async () => {
    const server = track(
      createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => {
        res.writeHead(201, { 'content-length': '100' });
        res.write('{"partial":');
        setTimeout(() => res.socket?.destroy(), 20);
      }),
    );
    const { port } = await listen(server);
    const e = await rejection(keep(new HttpsTransport({ caBundle: caFile })).post(`https://127.0.0.1:${port}/sessions`, {}, '{}'));
    expect(e.code).to.equal('NETWORK');
    expect(e.retryable).to.equal(true);
  });

  it('refuses a reply larger than 1 MiB as a bad response, through node:https and through a proxy', async () => {
    const server = track(
      createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(Buffer.alloc(MAX_REPLY_BYTES + 1, 0x20));
      }),
    );
    const { port } = await listen(server);
    const url = `https://127.0.0.1:${port}/sessions`;
    const direct = await rejection(keep(new HttpsTransport({ caBundle: caFile })).post(url, {}, '{}'));
    expect(direct.code).to.equal('BAD_RESPONSE');
    expect(direct.message).to.contain('larger than 1024 KiB');
    const { port: proxyPort } = await connectProxy();
    const viaProxy = await rejection(keep(makeTransport({ caBundle: caFile }, { HTTPS_PROXY: `http://127.0.0.1:${proxyPort}` })).post(url, {}, '{}'));
    expect(viaProxy.code).to.equal('BAD_RESPONSE');
  });

  it('is cancelled by the caller\'s signal', async () => {
    const server = track(createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, () => {}));
    const { port } = await listen(server);
    const abort = new AbortController();
    const pending = keep(new HttpsTransport({ caBundle: caFile })).post(`https://127.0.0.1:${port}/sessions`, {}, '{}', abort.signal);
    setTimeout(() => abort.abort(), 100);
    expect((await rejection(pending)).code).to.equal('ABORTED');
  });

  it('tunnels through the proxy HTTPS_PROXY names (CONNECT), and goes direct for a host in NO_PROXY', async () => {
    const echo = await echoServer();
    const { port: proxyPort, tunnels } = await connectProxy();
    const env = { HTTPS_PROXY: `http://127.0.0.1:${proxyPort}` };

    const viaProxy = keep(makeTransport({ caBundle: caFile }, env));
    expect(viaProxy.proxy?.httpsProxy).to.equal(env.HTTPS_PROXY);
    expect((await viaProxy.post(echo.url, {}, '{"via":"proxy"}')).body).to.equal('{"via":"proxy"}');
    expect(tunnels).to.deep.equal([`127.0.0.1:${echo.port}`]);

    const bypass = keep(makeTransport({ caBundle: caFile }, { ...env, NO_PROXY: '127.0.0.1' }));
    expect((await bypass.post(echo.url, {}, '{"via":"direct"}')).status).to.equal(201);
    expect(tunnels, 'no new tunnel for a NO_PROXY host').to.have.length(1);
  });

  it('sends the user and password of HTTPS_PROXY to the proxy, and never shows the password when the proxy refuses them', async () => {
    const echo = await echoServer();
    const basic = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
    const { port: proxyPort, tunnels, auths } = await connectProxy(basic);
    const ok = keep(makeTransport({ caBundle: caFile }, { HTTPS_PROXY: `http://alice:s3cret@127.0.0.1:${proxyPort}` }));
    expect((await ok.post(echo.url, {}, '{}')).status).to.equal(201);
    expect(auths, 'Proxy-Authorization sent').to.deep.equal([basic]);
    expect(tunnels).to.have.length(1);

    const refused = await rejection(keep(makeTransport({ caBundle: caFile }, { HTTPS_PROXY: `http://alice:wrongpw@127.0.0.1:${proxyPort}` })).post(echo.url, {}, '{}'));
    expect(refused.code).to.equal('NETWORK');
    expect(refused.retryable, 'retrying cannot fix credentials').to.equal(false);
    expect(refused.message).to.equal(`the proxy http://127.0.0.1:${proxyPort} (HTTPS_PROXY) refused to open a tunnel to 127.0.0.1:${echo.port}: 407 Proxy Authentication Required`);
    expect(refused.hint).to.equal('put the proxy user and password in HTTPS_PROXY (http://USER:PASSWORD@HOST:PORT, special characters percent-encoded), and check them with the proxy\'s owner');
    expect(refused.describe(), 'the password').not.to.contain('wrongpw');
    expect(JSON.stringify(refused) + String(refused.cause) + ((refused.cause as Error | undefined)?.stack ?? '')).not.to.contain('wrongpw');
  });

  it('reaches an https:// proxy whose certificate the CA bundle vouches for', async () => {
    const echo = await echoServer();
    const { port: proxyPort, tunnels } = await connectProxy(undefined, true);
    const t = keep(makeTransport({ caBundle: caFile }, { HTTPS_PROXY: `https://127.0.0.1:${proxyPort}` }));
    expect((await t.post(echo.url, {}, '{}')).status).to.equal(201);
    expect(tunnels).to.deep.equal([`127.0.0.1:${echo.port}`]);
    const untrusted = await rejection(keep(makeTransport({}, { HTTPS_PROXY: `https://127.0.0.1:${proxyPort}` })).post(echo.url, {}, '{}'));
    expect(untrusted.code, 'without the CA bundle the proxy is not trusted').to.equal('TLS');
  });

  it('tells a proxy that will not tunnel (403, not retried) from one that cannot right now (502, retried)', async () => {
    for (const [status, retryable] of [
      ['403 Forbidden', false],
      ['502 Bad Gateway', true],
    ] as const) {
      const proxy = track(createHttpServer((_req, res) => res.writeHead(405).end()));
      proxy.on('connect', (_req, client: Socket) => client.end(`HTTP/1.1 ${status}\r\n\r\n`));
      const { port } = await listen(proxy);
      const e = await rejection(keep(makeTransport({ caBundle: caFile }, { HTTPS_PROXY: `http://127.0.0.1:${port}` })).post('https://127.0.0.1:9/sessions', {}, '{}'));
      expect([e.code, e.retryable, e.message], status).to.deep.equal(['NETWORK', retryable, `the proxy http://127.0.0.1:${port} (HTTPS_PROXY) ${retryable ? 'could not' : 'refused to'} open a tunnel to 127.0.0.1:9: ${status}`]);
    }
  });

  it('reads the proxy as curl, Go and the AWS CLI do: HTTPS_PROXY, lower case first; none when it is unset', () => {
    expect(proxySettings({})).to.equal(undefined);
    expect(proxySettings({ NO_PROXY: 'example.com' })).to.equal(undefined);
    expect(proxySettings({ HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2', NO_PROXY: '.corp' })).to.deep.equal({ httpsProxy: 'http://lower:2', noProxy: '.corp', variable: 'https_proxy' });
    expect(proxySettings({ HTTPS_PROXY: 'http://p:1', no_proxy: 'lower', NO_PROXY: 'upper' })?.noProxy).to.equal('lower');
    expect(proxySettings({ HTTP_PROXY: 'http://p:3' }), 'HTTP_PROXY is for http:// URLs, and the endpoint is https').to.equal(undefined);
    expect(proxySettings({ HTTP_PROXY: 'socks5://not-ours:1080' }), 'nor is it checked').to.equal(undefined);
  });

  it('goes direct to an https endpoint when only HTTP_PROXY names a proxy', async () => {
    const echo = await echoServer();
    const { port: proxyPort, tunnels } = await connectProxy();
    const t = keep(makeTransport({ caBundle: caFile }, { HTTP_PROXY: `http://127.0.0.1:${proxyPort}`, http_proxy: `http://127.0.0.1:${proxyPort}` }));
    expect(t.proxy, 'the proxy of the transport').to.equal(undefined);
    expect((await t.post(echo.url, {}, '{}')).status).to.equal(201);
    expect(tunnels, 'tunnels through the HTTP_PROXY').to.deep.equal([]);
  });

  it('reads a proxy without a scheme as http://, as curl, Go and the AWS CLI do', () => {
    expect(proxySettings({ HTTPS_PROXY: 'proxy.corp:3128' })).to.deep.equal({ httpsProxy: 'http://proxy.corp:3128', noProxy: '', variable: 'HTTPS_PROXY' });
    expect(proxySettings({ https_proxy: 'https://proxy.corp' })?.httpsProxy).to.equal('https://proxy.corp');
  });

  it('refuses a proxy setting that is not a proxy URL at once, naming the variable and never its password', () => {
    const cases: [NodeJS.ProcessEnv, string][] = [
      [{ HTTPS_PROXY: 'socks5://proxy.corp:1080' }, 'HTTPS_PROXY is a socks5: URL; only http:// and https:// proxies are supported'],
      [{ https_proxy: 'http://alice:s3cret@' }, 'https_proxy is not a proxy URL: "http://***@"'],
      [{ HTTPS_PROXY: 'http://pro xy:80' }, 'HTTPS_PROXY is not a proxy URL: "http://pro xy:80"'],
      [{ HTTPS_PROXY: 'http://u:s3cret/x@proxy:80' }, 'HTTPS_PROXY is not a proxy URL: "http://***@proxy:80"'],
    ];
    for (const [env, message] of cases) {
      const e = thrown(() => makeTransport({}, env));
      expect(e, JSON.stringify(env)).to.be.instanceOf(AgentError);
      expect((e as AgentError).code).to.equal('CONFIG_INVALID');
      expect((e as AgentError).message).to.equal(message);
      expect((e as AgentError).hint).to.equal('set it to http://HOST:PORT (user and password, if any, before an @), or unset it to connect directly');
      expect((e as AgentError).describe()).not.to.include('s3cret');
    }
  });
  it('refuses a user or password that is not valid percent-encoding at once (it would fail every request later), naming the variable', () => {
    const e = thrown(() => makeTransport({}, { https_proxy: 'http://alice:s3cret%ZZ@proxy.corp:3128' }));
    expect(e).to.be.instanceOf(AgentError);
    expect([(e as AgentError).code, (e as AgentError).retryable, (e as AgentError).message]).to.deep.equal([
      'CONFIG_INVALID',
      false,
      'https_proxy has a user or password that is not valid percent-encoding: "http://***@proxy.corp:3128"',
    ]);
    expect((e as AgentError).hint).to.contain('%25');
    expect((e as AgentError).describe()).not.to.include('s3cret');
  });

  it('decodes a percent-encoded user and password before sending them to the proxy', async () => {
    const echo = await echoServer();
    const basic = `Basic ${Buffer.from('al@ice:p:ss w%rd').toString('base64')}`;
    const { port: proxyPort, auths } = await connectProxy(basic);
    const t = keep(makeTransport({ caBundle: caFile }, { HTTPS_PROXY: `http://al%40ice:p%3Ass%20w%25rd@127.0.0.1:${proxyPort}` }));
    expect((await t.post(echo.url, {}, '{}')).status).to.equal(201);
    expect(auths, 'Proxy-Authorization sent').to.deep.equal([basic]);
  });

  it('keeps tunnels alive: sequential requests share one tunnel, concurrent ones open at most one each, then reuse them', async () => {
    const echo = await echoServer();
    const { port: proxyPort, tunnels } = await connectProxy();
    const t = keep(makeTransport({ caBundle: caFile }, { HTTPS_PROXY: `http://127.0.0.1:${proxyPort}` }));
    for (let i = 0; i < 3; i++) expect((await t.post(echo.url, {}, `{"n":${i}}`)).body).to.equal(`{"n":${i}}`);
    expect(tunnels.length, 'tunnels for 3 sequential requests').to.equal(1);
    const burst = await Promise.all(Array.from({ length: 4 }, (_, i) => t.post(echo.url, {}, `{"b":${i}}`)));
    expect(burst.map((r) => r.status)).to.deep.equal([201, 201, 201, 201]);
    const afterBurst = tunnels.length;
    expect(afterBurst, 'tunnels after 4 concurrent requests').to.be.within(1, 4);
    for (let i = 0; i < 8; i++) await t.post(echo.url, {}, '{}');
    expect(tunnels.length, 'tunnels after 8 more sequential requests').to.equal(afterBurst);
    expect(echo.connections(), 'TLS connections the endpoint saw').to.equal(afterBurst);
  });

  /** A proxy that accepts connections and either closes each at the first byte or never answers; counts them. */
  async function badProxy(mode: 'close' | 'black-hole') {
    let connections = 0;
    const open = new Set<Socket>();
    const server = track(
      createNetServer((c) => {
        connections++;
        open.add(c);
        c.on('close', () => open.delete(c));
        c.on('error', () => {});
        // Reading (and dropping) what comes is what lets the server see the client hang up.
        if (mode === 'close') c.once('data', () => c.destroy());
        else c.resume();
      }),
    );
    const { port } = await listen(server);
    return { port, connections: () => connections, open: () => open.size };
  }

  it('reports a proxy that closes the connection without answering CONNECT as one retryable error naming the proxy, after one connection', async () => {
    const proxy = await badProxy('close');
    const t = keep(makeTransport({ caBundle: caFile }, { HTTPS_PROXY: `http://alice:s3cret@127.0.0.1:${proxy.port}` }));
    const e = await rejection(t.post('https://rolesanywhere.us-east-1.amazonaws.com/sessions', {}, '{}'));
    expect([e.code, e.retryable, e.message]).to.deep.equal([
      'NETWORK',
      true,
      `the proxy http://127.0.0.1:${proxy.port} (HTTPS_PROXY) closed the connection without answering CONNECT to rolesanywhere.us-east-1.amazonaws.com:443`,
    ]);
    expect(e.hint).to.contain('NO_PROXY');
    expect(e.describe()).not.to.contain('s3cret');
    await new Promise((r) => setTimeout(r, 200));
    expect(proxy.connections(), 'connections to the proxy for one request').to.equal(1);
  });

  it('times out a proxy that never answers CONNECT at the connect timeout, naming the proxy, after one connection', async () => {
    const proxy = await badProxy('black-hole');
    const t = keep(makeTransport({ caBundle: caFile, connectTimeoutMs: 300, totalTimeoutMs: 10_000 }, { https_proxy: `127.0.0.1:${proxy.port}` }));
    const started = Date.now();
    const e = await rejection(t.post('https://127.0.0.1:9/sessions', {}, '{}'));
    expect([e.code, e.retryable, e.message]).to.deep.equal(['TIMEOUT', true, `the proxy http://127.0.0.1:${proxy.port} (https_proxy) did not answer CONNECT to 127.0.0.1:9 within 300 ms`]);
    expect(Date.now() - started, 'ms until the timeout').to.be.below(5_000);
    expect(proxy.connections(), 'connections to the proxy').to.equal(1);
    await waitUntil(() => proxy.open() === 0, 'the connection to the proxy to close');
  });

  it('reports a proxy that is not listening as a network error naming the proxy and the variable', async () => {
    const { port, server } = await listen(createNetServer());
    await new Promise((r) => server.close(r));
    const e = await rejection(keep(makeTransport({ caBundle: caFile }, { HTTPS_PROXY: `http://127.0.0.1:${port}` })).post('https://127.0.0.1:9/sessions', {}, '{}'));
    expect([e.code, e.retryable, e.message]).to.deep.equal(['NETWORK', true, `cannot connect to the proxy http://127.0.0.1:${port} (HTTPS_PROXY): ECONNREFUSED`]);
    expect(e.hint).to.contain('HTTPS_PROXY names the right host and port');
  });

  it('ends a tunnel still being opened when the request is cancelled, times out in total, or the transport closes', async () => {
    const proxy = await badProxy('black-hole');
    const env = { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` };
    const abort = new AbortController();
    const cancelled = keep(makeTransport({ caBundle: caFile, connectTimeoutMs: 60_000 }, env)).post('https://127.0.0.1:9/sessions', {}, '{}', abort.signal);
    await waitUntil(() => proxy.connections() === 1, 'the first connection');
    abort.abort();
    expect((await rejection(cancelled)).code).to.equal('ABORTED');
    await waitUntil(() => proxy.open() === 0, 'the cancelled tunnel to close');

    const slow = keep(makeTransport({ caBundle: caFile, connectTimeoutMs: 60_000, totalTimeoutMs: 300 }, env));
    const e = await rejection(slow.post('https://127.0.0.1:9/sessions', {}, '{}'));
    expect([e.code, e.message]).to.deep.equal(['TIMEOUT', 'request to 127.0.0.1:9 took longer than 300 ms']);
    await waitUntil(() => proxy.open() === 0, 'the timed-out tunnel to close');

    const closing = makeTransport({ caBundle: caFile, connectTimeoutMs: 60_000 }, env);
    const pending = closing.post('https://127.0.0.1:9/sessions', {}, '{}');
    await waitUntil(() => proxy.connections() === 3, 'the third connection');
    await closing.close();
    expect((await rejection(pending)).code).to.equal('ABORTED');
    await waitUntil(() => proxy.open() === 0, 'the tunnel of the closed transport to close');
  });

  it('goes direct for NO_PROXY hosts as undici did: suffixes, leading dots, ports, *, IPv6 with or without brackets', () => {
    const cases: Array<[string, string, boolean]> = [
      ['https://rolesanywhere.us-east-1.amazonaws.com/s', '', false],
      ['https://rolesanywhere.us-east-1.amazonaws.com/s', '*', true],
      ['https://rolesanywhere.us-east-1.amazonaws.com/s', 'amazonaws.com', true],
      ['https://rolesanywhere.us-east-1.amazonaws.com/s', '.amazonaws.com', true],
      ['https://rolesanywhere.us-east-1.amazonaws.com/s', '*.AMAZONAWS.com', true],
      ['https://rolesanywhere.us-east-1.amazonaws.com/s', 'zonaws.com', false],
      ['https://rolesanywhere.us-east-1.amazonaws.com/s', 'other.corp, amazonaws.com:443', true],
      ['https://rolesanywhere.us-east-1.amazonaws.com/s', 'amazonaws.com:8443', false],
      ['https://127.0.0.1:8443/s', '127.0.0.1', true],
      ['https://127.0.0.1:8443/s', '127.0.0.1:8443', true],
      ['https://127.0.0.1:8443/s', '127.0.0.2 localhost', false],
      ['https://[::1]:8443/s', '::1', true],
      ['https://[::1]:8443/s', '[::1]:8443', true],
    ];
    for (const [url, noProxy, direct] of cases) expect(bypassesProxy(new URL(url), noProxy), `${url} with NO_PROXY="${noProxy}"`).to.equal(direct);
  });
});

async function waitUntil(ok: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) expect.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
