/**
 * Replies slower than the client's timeout. The schedule has no timeout setting (the transport's
 * defaults are 10 s to connect and 30 s in all), so a spawned agent would need minutes to show
 * this; here the agent runs in this process with the real transport, writer, signer loader and
 * timers, against the emulator, and only the transport's total timeout is shortened.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { Agent } from '../../src/agent/agent.js';
import { agentConfig } from '../../src/agent/from-schedule.js';
import { loadSchedule } from '../../src/config/index.js';
import { CredentialsWriter } from '../../src/credentials-file/index.js';
import { loadSigner } from '../../src/keys/load.js';
import { makeTransport } from '../../src/rolesanywhere/transport.js';
import { systemClock } from '../../src/time/clock.js';
import { systemScheduler } from '../../src/time/scheduler.js';
import { captureLog } from '../helpers/agent-fakes.js';
import { makeWorld, type World } from '../helpers/world.js';
import { tryReadCredentials, waitFor } from './fixtures/agent-process.js';
import { scheduleDoc, writeSchedule } from './fixtures/schedule.js';

const TIMEOUT_MS = 300;

describe('the agent against replies slower than its transport timeout (in-process, real transport and timers)', function () {
  this.timeout(30_000);
  let w: World;
  let agent: Agent | undefined;
  before(async () => {
    w = await makeWorld();
  });
  after(async () => {
    await agent?.stop();
    await w.cleanup();
  });

  it('times out, keeps the last good credentials in the file, retries and recovers when the service is fast again', async () => {
    const credentials = join(w.dir, 'aws', 'credentials');
    const schedule = await loadSchedule(writeSchedule(join(w.dir, 'schedule.yaml'), scheduleDoc(w, credentials, { slow: { role: 'app', key: w.ecFiles } })), {
      env: {},
      home: w.dir,
    });
    const log = captureLog();
    const timeouts: Array<number | undefined> = [];
    agent = new Agent({
      clock: systemClock,
      scheduler: systemScheduler,
      log,
      env: {},
      loadSigner: (key) => loadSigner(key, { env: {}, clock: systemClock }),
      makeWriter: (path) => new CredentialsWriter(path),
      makeTransport: (o) => {
        timeouts.push(o.totalTimeoutMs);
        return makeTransport({ ...o, totalTimeoutMs: TIMEOUT_MS }, {});
      },
    });
    await agent.start(agentConfig(schedule));
    expect(timeouts, 'total timeout the schedule asks of the transport (none: the 30 s default)').to.deep.equal([undefined]);
    const first = await waitFor(() => tryReadCredentials(credentials)?.get('slow'), 'the first credentials');
    // The file is in place before the write returns; a trigger before then would join the first call.
    await waitFor(() => agent!.status()[0]?.state === 'fresh' && !agent!.status()[0]?.inFlight, 'the first refresh to finish');

    w.emulator.faults.latency(TIMEOUT_MS * 4);
    const before = w.emulator.requests.length;
    await agent.refreshNow(['slow']);
    const [status] = agent.status();
    expect(status?.state, 'state after every attempt timed out').to.equal('failing');
    expect(status?.lastError?.code).to.equal('TIMEOUT');
    expect(status?.lastError?.message).to.equal(`profile "slow": request to ${new URL(w.emulator.httpsUrl!).host} took longer than ${TIMEOUT_MS} ms (gave up after 4 attempts)`);
    expect(tryReadCredentials(credentials)?.get('slow'), 'the file keeps the last good credentials').to.deep.equal(first);
    const warned = log.lines.find((r) => r.message === 'refresh failed; keeping the current credentials and retrying');
    expect(warned?.meta['code']).to.equal('TIMEOUT');
    expect(warned?.meta['current_credentials_expire']).to.equal(new Date(Date.parse(first.expires!)).toISOString());
    const retryInS = warned?.meta['retry_in_s'] as number;
    expect(retryInS, 'seconds to the automatic retry').to.be.within(1, 2);

    w.emulator.faults.latency(0);
    const now = await waitFor(() => {
      const c = tryReadCredentials(credentials)?.get('slow');
      return c && c.accessKeyId !== first.accessKeyId ? c : undefined;
    }, 'credentials from the automatic retry', { timeoutMs: 5_000 });
    expect(w.emulator.issued.map((i) => i.accessKeyId), 'the new credentials are ones the emulator issued').to.include(now.accessKeyId);
    // The file is renamed into place before the refresh records its state: wait for that too.
    await waitFor(() => agent!.status()[0]?.state === 'fresh', 'the state to become fresh after the retry', { timeoutMs: 2_000 });
    expect(agent.status()[0]?.state).to.equal('fresh');
    expect(log.lines.some((r) => r.message === 'profile recovered'), 'recovery logged').to.equal(true);
    // The emulator finishes the slow requests after the client gave up on them: 4 timed out, at least one answered.
    await waitFor(() => w.emulator.requests.length - before >= 5, 'the emulator to record the abandoned requests', { timeoutMs: 5_000 });
  });
});
