import 'reflect-metadata';
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { AgentError } from '../../src/errors.js';
import { AgentMetrics, METRIC_PREFIX } from '../../src/observability/metrics.js';
import { ObservabilityServer, type HealthBody } from '../../src/observability/server.js';
import { liveStatusDocument, type StatusDocument } from '../../src/observability/status-document.js';
import { makePki, type TestPki } from '../helpers/pki.js';
import { memorySigner } from '../helpers/signer.js';
import { makeTempDir } from '../helpers/tmp.js';
import { http, observedWorld, profile, reply, sample } from './support.js';
import { requireTools } from '../helpers/prerequisites.js';

describe('observability: the listener', function () {
  this.timeout(10_000);
  let pki: TestPki;
  const cleanups: Array<() => Promise<void> | void> = [];
  before(async () => {
    pki = await makePki('ec');
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function serve(listen: { host: string; port: number } | { socket: string } = { host: '127.0.0.1', port: 0 }) {
    const t = observedWorld([profile('a'), profile('b')], () => memorySigner(pki.leaf.certPem, pki.leaf.keyPem, [pki.intermediate.certPem]));
    const { metrics, view } = t;
    const server = await ObservabilityServer.start(listen, { document: () => liveStatusDocument(view), metrics });
    cleanups.push(() => t.agent.stop(), () => server.close());
    const health = async () => {
      const r = await http(server.address, '/healthz');
      return { status: r.status, body: JSON.parse(r.body) as HealthBody };
    };
    return { ...t, server, metrics, health };
  }

  it('answers /healthz 503 before the first credentials, 200 once fresh, 503 naming an expired profile, and 200 after it recovers', async () => {
    const t = await serve();
    let h = await t.health();
    expect(h, 'not started: no profile, no health').to.deep.equal({ status: 503, body: { status: 'failing', profiles: 0, failing: [] } });
    await t.agent.start(t.config);
    h = await t.health();
    expect(h.status, 'nothing fetched yet').to.equal(503);
    expect(h.body.failing.map((f) => f.profile)).to.deep.equal(['a', 'b']);
    expect(h.body.failing[0]!.reason).to.equal('no credentials yet: the first refresh is pending');

    await t.advance(2_000);
    h = await t.health();
    expect(h, 'both fresh').to.deep.equal({ status: 200, body: { status: 'ok', profiles: 2, failing: [] } });

    // a's refreshes start failing (a network-shaped 503, retried) and its credentials run out.
    t.service.failures.set('a', Array.from({ length: 100_000 }, () => reply(503, 'ServiceUnavailableException')));
    await t.advance(50 * 60_000);
    h = await t.health();
    expect(h.status, 'a inside its 15m margin while failing').to.equal(503);
    expect(h.body.failing.map((f) => [f.profile, f.state])).to.deep.equal([['a', 'failing']]);
    expect(h.body.failing[0]!.reason).to.match(/within the refresh margin of 15m \(state failing; last error SERVICE_UNAVAILABLE: /);

    await t.advance(11 * 60_000);
    h = await t.health();
    expect(h.body.failing.map((f) => [f.profile, f.state]), 'a expired, b refreshed meanwhile').to.deep.equal([['a', 'expired']]);
    expect(h.body.failing[0]!.reason).to.match(/^the credentials expired at \S+ \(state expired; last error SERVICE_UNAVAILABLE/);

    t.service.failures.set('a', []);
    await t.advance(6 * 60_000);
    h = await t.health();
    expect(h, 'a recovered').to.deep.equal({ status: 200, body: { status: 'ok', profiles: 2, failing: [] } });
  });

  it('serves /metrics in Prometheus text and /status as the status document; 404 elsewhere, 405 for other methods, HEAD without a body', async () => {
    const t = await serve();
    await t.agent.start(t.config);
    await t.advance(2_000);
    const metrics = await http(t.server.address, '/metrics');
    expect(metrics.status).to.equal(200);
    expect(metrics.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
    expect(sample(metrics.body, `${METRIC_PREFIX}refreshes_total`, { profile: 'a', result: 'success' })).to.equal(1);

    const status = await http(t.server.address, '/status?verbose=1');
    expect(status.status).to.equal(200);
    expect(status.headers['content-type']).to.equal('application/json; charset=utf-8');
    const doc = JSON.parse(status.body) as StatusDocument;
    expect(doc, 'the live document of this agent').to.deep.include({ credentialsFile: t.config.credentialsFile, source: 'agent', live: true, pid: process.pid, healthy: true });
    expect(doc.profiles.map((p) => [p.profile, p.state, p.valid, p.certificateSerial])).to.deep.equal([
      ['a', 'fresh', true, pki.leaf.nodeCert.serialNumber],
      ['b', 'fresh', true, pki.leaf.nodeCert.serialNumber],
    ]);
    expect(doc.profiles[0]!.chain?.map((c) => c.position)).to.deep.equal([1]);

    for (const path of ['/', '/metrics/', '/health', '/status.json', '/../metrics']) {
      expect((await http(t.server.address, path)).status, `GET ${path}`).to.equal(404);
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const r = await http(t.server.address, '/metrics', method);
      expect([r.status, r.headers['allow']], method).to.deep.equal([405, 'GET, HEAD']);
    }
    const head = await http(t.server.address, '/healthz', 'HEAD');
    expect([head.status, head.body, Number(head.headers['content-length']) > 0]).to.deep.equal([200, '', true]);
  });

  it('listens on a unix socket created mode 0600, in a directory it makes 0700, and removes it on close', async function () {
    const { dir, cleanup } = makeTempDir('ra-obs-sock-');
    cleanups.push(cleanup);
    const socket = join(dir, 'run', 'agent.sock');
    const t = await serve({ socket });
    expect(t.server.address).to.deep.equal({ socket });
    expect(lstatSync(socket).isSocket()).to.equal(true);
    expect((lstatSync(socket).mode & 0o777).toString(8), 'socket mode').to.equal('600');
    expect((statSync(join(dir, 'run')).mode & 0o777).toString(8), 'directory mode').to.equal('700');
    await t.agent.start(t.config);
    await t.advance(2_000);
    expect((await t.health()).status).to.equal(200);
    const doc = JSON.parse((await http(t.server.address, '/status')).body) as StatusDocument;
    expect(doc.profiles.map((p) => p.profile)).to.deep.equal(['a', 'b']);
    await t.server.close();
    expect(existsSync(socket), 'socket removed on close').to.equal(false);
  });

  it('replaces a stale socket, but refuses a live one and a path that is not a socket', async () => {
    const { dir, cleanup } = makeTempDir('ra-obs-sock-');
    cleanups.push(cleanup);
    // A stale socket, as a killed agent leaves it: bound by a process that exited without unlinking.
    const stale = join(dir, 'stale.sock');
    requireTools('python3');
    execFileSync('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', stale]);
    expect(lstatSync(stale).isSocket(), 'the stale socket is there').to.equal(true);
    const t = await serve({ socket: stale });
    expect((await t.health()).body.profiles, 'answering on the reclaimed path').to.equal(0);

    // A live socket of another process.
    const live = join(dir, 'live.sock');
    const owner = createServer();
    await new Promise<void>((r) => owner.listen(live, r));
    cleanups.push(() => new Promise<void>((r) => owner.close(() => r())));
    const refused = await ObservabilityServer.start({ socket: live }, { document: () => { throw new Error('unused'); }, metrics: new AgentMetrics() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).to.be.instanceOf(AgentError);
    expect((refused as AgentError).message).to.equal(`http.listen: another process listens on ${live}`);

    const file = join(dir, 'plain');
    mkdirSync(file);
    const notSocket = await ObservabilityServer.start({ socket: file }, { document: () => { throw new Error('unused'); }, metrics: new AgentMetrics() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((notSocket as AgentError).message).to.equal(`http.listen: ${file} exists and is not a socket`);
    expect(existsSync(file), 'left alone').to.equal(true);
  });

  it('reports a TCP port already in use as a configuration error naming the address', async () => {
    const t = await serve();
    const port = Number(new URL((t.server.address as { url: string }).url).port);
    const e = await ObservabilityServer.start({ host: '127.0.0.1', port }, { document: () => { throw new Error('unused'); }, metrics: new AgentMetrics() }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).to.be.instanceOf(AgentError);
    expect([(e as AgentError).code, (e as AgentError).message]).to.deep.equal(['CONFIG_INVALID', `http.listen 127.0.0.1:${port}: cannot listen (EADDRINUSE)`]);
  });
});
