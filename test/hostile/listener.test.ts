/**
 * The observability listener under idle and slow connections: 100 connections that send nothing
 * and 20 that send half a request header must not keep /healthz from answering (64 such
 * connections used to fill the listener, and 28 of 30 probes failed), and the listener closes them
 * within seconds rather than holding them.
 */
import 'reflect-metadata';
import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { ObservabilityServer } from '../../src/observability/server.js';
import { liveStatusDocument } from '../../src/observability/status-document.js';
import { makePki, type TestPki } from '../helpers/pki.js';
import { memorySigner } from '../helpers/signer.js';
import { observedWorld, profile } from '../observability/support.js';
import { request } from 'node:http';

function probe(url: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const req = request({ hostname: u.hostname, port: u.port, path: '/healthz', agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** A connection held open by the test; `closed` resolves with the time the listener closed it. */
function open(url: string, send?: string): Promise<{ socket: Socket; closed: Promise<number> }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port) }, () => {
      if (send) s.write(send);
      resolve({ socket: s, closed });
    });
    // Listen from the start: the listener may close the oldest ones while later ones open.
    const closed = new Promise<number>((r) => s.once('close', () => r(Date.now())));
    s.resume();
    s.on('error', () => {});
    s.once('error', reject);
  });
}

describe('the observability listener under idle and slow connections', function () {
  this.timeout(40_000);
  let pki: TestPki;
  before(async () => {
    pki = await makePki('ec');
  });

  it('answers every /healthz probe while 120 idle and header-slow connections are held, and closes those within seconds', async () => {
    const t = observedWorld([profile('a')], () => memorySigner(pki.leaf.certPem, pki.leaf.keyPem, [pki.intermediate.certPem]));
    const server = await ObservabilityServer.start({ host: '127.0.0.1', port: 0 }, { document: () => liveStatusDocument(t.view), metrics: t.metrics });
    const held: Array<{ socket: Socket; closed: Promise<number> }> = [];
    try {
      const url = (server.address as { url: string }).url;
      for (let i = 0; i < 100; i++) held.push(await open(url));
      for (let i = 0; i < 20; i++) held.push(await open(url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: '));
      const closed = held.map((h) => h.closed);
      const openedAt = Date.now();

      const answers: number[] = [];
      for (let i = 0; i < 30; i++) answers.push(await probe(url));
      expect(answers.filter((s) => s !== 503 && s !== 200).length, `probes without an answer (status per probe: ${answers.join(',')})`).to.equal(0);

      // Generous for a loaded machine: the listener's own limits are a few seconds.
      const deadline = new Promise<'deadline'>((r) => setTimeout(() => r('deadline'), 20_000));
      const all = await Promise.race([Promise.all(closed), deadline]);
      expect(all === 'deadline' ? 'still open after 20 s' : 'closed', 'the held connections').to.equal('closed');
      const slowest = Math.max(...(all as number[])) - openedAt;
      expect(slowest, 'ms until the listener closed the last held connection').to.be.below(20_000);
    } finally {
      for (const h of held) h.socket.destroy();
      await server.close();
      await t.agent.stop();
    }
  });
});
