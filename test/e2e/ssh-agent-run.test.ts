/**
 * `run` as a real process with its key in OpenSSH's ssh-agent: while the agent is not there the profile
 * fails with the retryable SSH_AGENT error, and once the agent is back holding the key, the agent's own
 * retry fills the profile without a restart or a reload.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { cleanEnv, ensureBuilt, killAll, spawnAgent, tryReadCredentials, waitFor } from '../agent/fixtures/agent-process.js';
import { scheduleDoc, writeSchedule } from '../agent/fixtures/schedule.js';
import { SshAgent } from '../helpers/ssh-agent.js';
import { makeWorld, type World } from '../helpers/world.js';

describe('run with an ssh-agent key: the agent gone, then back', function () {
  this.timeout(60_000);
  let w: World;
  let agent: SshAgent | undefined;
  before(async () => {
    ensureBuilt();
    w = await makeWorld();
  });
  after(async () => {
    killAll();
    await agent?.stop();
    await w.cleanup();
  });

  it('fails with SSH_AGENT while the agent is gone and fills the profile by itself when it returns', async () => {
    const socket = join(w.dir, 'later.sock');
    const credentials = join(w.dir, 'aws', 'credentials');
    const schedule = writeSchedule(join(w.dir, 'run.yaml'), scheduleDoc(w, credentials, { 'from-agent': { role: 'app', key: { certificate: w.ecFiles.certificate, privateKey: `ssh-agent:${socket}` } } }));
    const proc = spawnAgent(['run', '--config', schedule, '--log-format', 'json', '--log-level', 'debug'], cleanEnv(w.dir));
    const failure = await proc.waitForLog((r) => JSON.stringify(r).includes('SSH_AGENT'), { timeoutMs: 20_000 });
    expect(JSON.stringify(failure), 'the failure names the socket').to.contain(socket);
    expect(w.emulator.requests.length, 'requests while the agent was gone').to.equal(0);

    agent = await SshAgent.start(w.dir, 'later.sock');
    agent.add(w.ecFiles.privateKey!);
    const creds = await waitFor(() => tryReadCredentials(credentials)?.get('from-agent'), 'the profile filled after the agent returned', { timeoutMs: 30_000 });
    expect(creds.accessKeyId).to.equal(w.emulator.issued.at(-1)!.accessKeyId);
    expect(w.emulator.requests.map((r) => r.ok), 'emulator verdicts').to.deep.equal([true]);
    proc.kill('SIGTERM');
    const exit = await proc.exited;
    expect(exit, `exit after SIGTERM; stderr:\n${proc.stderr().slice(-2000)}`).to.deep.equal({ code: 0, signal: null });
  });
});
