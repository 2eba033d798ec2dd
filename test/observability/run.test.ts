/**
 * The `run` command in-process against the emulator with the listener on: every endpoint scraped
 * while it runs holds no issued secret, `status --json` (through the listener) prints the very
 * document `/status` serves, and the listener's bound address reaches `status` through the state
 * file (port 0) or the schedule (a unix socket).
 */
import 'reflect-metadata';
import { expect } from 'chai';
import { lstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readState, writeState, type StateFile } from '../../src/agent/state-file.js';
import { runCommand } from '../../src/cli/run.js';
import { statusCommand } from '../../src/cli/status.js';
import { METRIC_PREFIX } from '../../src/observability/metrics.js';
import type { BoundAddress } from '../../src/observability/server.js';
import type { StatusDocument } from '../../src/observability/status-document.js';
import { captureIO, type CapturedIO } from '../helpers/io.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';
import { http, sample } from './support.js';

/** Waits on real I/O (the agent's calls to the emulator), checking every 20 ms, for at most 8 s. */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 8_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('observability: the run command with its listener, against the emulator', function () {
  this.timeout(20_000);
  let w: World;
  before(async () => {
    w = await makeWorld();
  });
  after(async () => w?.cleanup());

  function schedule(name: string, listen: string): { path: string; credentials: string } {
    const credentials = join(w.dir, `${name}-credentials`);
    const path = join(w.dir, `${name}.yaml`);
    writeFileSync(
      path,
      [
        `credentials_file: ${credentials}`,
        'defaults:',
        `  trust_anchor_arn: ${TRUST_ANCHOR_ARN}`,
        `  profile_arn: ${PROFILE_ARN}`,
        `  endpoint: ${w.emulator.httpsUrl}`,
        `  ca_bundle: ${w.caBundle}`,
        'profiles:',
        '  app:',
        `    certificate: ${w.rsaFiles.certificate}`,
        `    private_key: ${w.rsaFiles.privateKey}`,
        `    intermediates: ${w.rsaFiles.intermediates}`,
        `    role_arn: ${roleArn('app')}`,
        '  backup:',
        `    certificate: ${w.ecFiles.certificate}`,
        `    private_key: ${w.ecFiles.privateKey}`,
        `    role_arn: ${roleArn('backup')}`,
        '    session_duration: 12h',
        `http: { listen: "${listen}" }`,
        '',
      ].join('\n'),
    );
    return { path, credentials };
  }

  /** Starts `run`, waits until both profiles hold credentials and the listener's address is in the state file. */
  async function start(s: { path: string; credentials: string }) {
    const io = captureIO();
    const exit = runCommand(['--config', s.path], io);
    const state = await until('both profiles fresh and the listener recorded', async () => {
      const st = await readState(s.credentials);
      return st?.http && st.profiles.length === 2 && st.profiles.every((p) => p.state === 'fresh') ? (st as StateFile & { http: BoundAddress }) : undefined;
    });
    return { io, exit, state };
  }

  async function status(path: string, ...flags: string[]) {
    const io = captureIO();
    const code = await statusCommand(['--config', path, ...flags], io);
    return { code, out: io.out(), err: io.err() };
  }

  function secrets(): string[] {
    const keyLines = [w.rsa.leaf, w.ec.directLeaf].map((l) => l.keyPem.split('\n')[2]!);
    return [...w.emulator.issued.flatMap((c) => [c.secretAccessKey, c.sessionToken]), ...keyLines];
  }

  it('serves no secret on any endpoint while it runs, and status --json prints the document /status serves', async () => {
    const s = schedule('tcp', '127.0.0.1:0');
    const { io, exit, state } = await start(s);
    let ran: CapturedIO | undefined = io;
    try {
      expect(state.http).to.have.property('url').that.matches(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(io.err(), 'the bound address is logged too').to.include((state.http as { url: string }).url);

      const bodies: Record<string, string> = {};
      for (const path of ['/metrics', '/healthz', '/status', '/', '/nope', '/status?x=1']) {
        for (const method of ['GET', 'HEAD', 'POST']) {
          const r = await http(state.http, path, method);
          bodies[`${method} ${path}`] = JSON.stringify(r.headers) + r.body;
        }
      }
      expect(w.emulator.issued.length, 'the emulator issued credentials to both profiles').to.be.at.least(2);
      expect(secrets().filter((x) => x.length < 20), 'every secret looked for is long enough to be telling').to.deep.equal([]);
      const leaks = Object.entries(bodies).flatMap(([where, text]) => secrets().filter((x) => text.includes(x)).map((x) => `${where}: ${x.slice(0, 6)}…`));
      expect(leaks, 'secrets served by the listener').to.deep.equal([]);

      const metrics = bodies['GET /metrics']!;
      expect(sample(metrics, `${METRIC_PREFIX}refreshes_total`, { profile: 'app', result: 'success' })).to.be.at.least(1);
      expect(sample(metrics, `${METRIC_PREFIX}credentials_file_replaces_total`)).to.be.at.least(1);
      expect(sample(metrics, `${METRIC_PREFIX}profile_healthy`, { profile: 'backup' })).to.equal(1);
      expect(JSON.parse((await http(state.http, '/healthz')).body)).to.deep.equal({ status: 'ok', profiles: 2, failing: [] });

      const served = (await http(state.http, '/status')).body;
      const json = await status(s.path, '--json');
      expect(json.code).to.equal(0);
      expect(JSON.parse(json.out) as StatusDocument, 'status --json is /status').to.deep.equal(JSON.parse(served));
      const doc = JSON.parse(json.out) as StatusDocument;
      expect([doc.source, doc.live, doc.healthy, doc.profiles.map((p) => [p.profile, p.state, p.valid])]).to.deep.equal([
        'agent',
        true,
        true,
        [
          ['app', 'fresh', true],
          ['backup', 'fresh', true],
        ],
      ]);
      expect(doc.profiles[0]!.chain?.map((c) => c.position), 'app sends its intermediate').to.deep.equal([1]);

      const text = await status(s.path);
      expect(text.out.split('\n')[0]).to.equal(`${s.credentials} (agent running, pid ${process.pid})`);
      const everything = [json.out, text.out, text.err, io.err()].join('\n');
      expect(secrets().filter((x) => everything.includes(x)).map((x) => x.slice(0, 6)), 'secrets in status output or the log').to.deep.equal([]);

      // Reloads are counted by result: SIGHUP with the same schedule succeeds, a broken one is rejected.
      const reloads = async (result: string) => sample((await http(state.http, '/metrics')).body, `${METRIC_PREFIX}schedule_reloads_total`, { result });
      expect([await reloads('success'), await reloads('rejected')], 'no reload yet').to.deep.equal([0, 0]);
      io.hangup();
      await until('the reload counted', async () => ((await reloads('success')) === 1 ? true : undefined));
      writeFileSync(s.path, 'profiles: {}\n');
      io.hangup();
      await until('the rejection counted', async () => ((await reloads('rejected'))! >= 1 ? true : undefined));
      expect(await reloads('success'), 'still one success').to.equal(1);
      schedule('tcp', '127.0.0.1:0');
    } finally {
      ran?.abort();
      expect(await exit).to.equal(0);
      ran = undefined;
    }

    // Stopped: the listener is gone, the state file no longer names it, and status reads that file.
    const after = await readState(s.credentials);
    expect(after?.http, 'no listener recorded after stop').to.equal(undefined);
    const left = await status(s.path, '--json');
    const doc = JSON.parse(left.out) as StatusDocument;
    expect([doc.source, doc.profiles.map((p) => [p.profile, p.state])]).to.deep.equal([
      'state-file',
      [
        ['app', 'stopped'],
        ['backup', 'stopped'],
      ],
    ]);
  });

  it('listens on a unix socket (mode 0600) that status reaches from the schedule', async () => {
    const socket = join(w.dir, 'sock', 'agent.sock');
    const s = schedule('unix', socket);
    const { io, exit, state } = await start(s);
    try {
      expect(state.http).to.deep.equal({ socket });
      expect((lstatSync(socket).mode & 0o777).toString(8)).to.equal('600');
      // Take the recorded address out of the state file: status must find the listener from the
      // schedule alone (the agent rewrites the file only on a change, and none is due for an hour).
      const { http: _recorded, ...withoutAddress } = state;
      await writeState(s.credentials, withoutAddress);
      const json = await status(s.path, '--json');
      const served = (await http({ socket }, '/status')).body;
      expect(JSON.parse(json.out)).to.deep.equal(JSON.parse(served));
      expect((JSON.parse(json.out) as StatusDocument).source).to.equal('agent');
      const metrics = (await http({ socket }, '/metrics')).body;
      expect(secrets().filter((x) => metrics.includes(x) || served.includes(x))).to.deep.equal([]);
    } finally {
      io.abort();
      expect(await exit).to.equal(0);
    }
  });
});
