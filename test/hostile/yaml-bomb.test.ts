/**
 * A YAML alias bomb (nine anchors, each a list of nine aliases of the one before: 460 bytes that
 * expand to 9^9 values) in the schedule: `validate` refuses it at once with an issue naming it, and
 * an agent that is running when the file is saved keeps its old schedule and keeps answering
 * /healthz. Both run as real processes, so a reader that expands the bomb fails by its deadline
 * instead of freezing the test runner.
 */
import { expect } from 'chai';
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSchedule } from '../../src/config/index.js';
import { MAX_ALIAS_EXPANSION } from '../../src/config/tree.js';
import { makeTempDir } from '../helpers/tmp.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';
import { cleanEnv, ensureBuilt, killAll, runCli, spawnAgent, tryReadCredentials, waitFor } from '../agent/fixtures/agent-process.js';
import { readState } from '../../src/agent/state-file.js';
import { aliasBomb } from './shapes.js';


function healthz(url: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname: u.hostname, port: u.port, path: '/healthz', timeout: 2_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', reject);
    req.end();
  });
}

describe('a YAML alias bomb in the schedule', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof makeTempDir>;
  before(function () {
    this.timeout(120_000);
    ensureBuilt();
  });
  beforeEach(() => {
    tmp = makeTempDir('ra-bomb-');
  });
  afterEach(() => {
    killAll();
    tmp.cleanup();
  });

  it('is under 500 bytes (the shape of the report)', () => {
    expect(aliasBomb().length, 'bytes').to.be.below(500);
  });

  it('parseSchedule refuses it with one issue naming the alias bomb, without expanding it', () => {
    const started = process.hrtime.bigint();
    let issues: string[] = [];
    try {
      parseSchedule(aliasBomb(), 'bomb.yaml', { env: {}, home: '/home/agent' });
    } catch (e) {
      issues = ((e as { issues?: Array<{ message: string }> }).issues ?? []).map((i) => i.message);
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(issues.filter((m) => m.includes('alias bomb')), `issues: ${issues.join(' | ')}`).to.deep.equal([
      `aliases (*name) expand to more than ${MAX_ALIAS_EXPANSION} values — refused as a YAML alias bomb`,
    ]);
    expect(ms, 'ms to refuse (generous on a shared machine)').to.be.below(5_000);
  });

  it('a large schedule that names a small anchor in every profile is still accepted (5,000 profiles)', () => {
    const lines = ['x-refresh: &r { before_expiry: 15m, jitter: 1m }', 'defaults:', `  trust_anchor_arn: ${TRUST_ANCHOR_ARN}`, `  profile_arn: ${PROFILE_ARN}`, '  certificate: /pki/c.pem', '  private_key: /pki/c.key', 'profiles:'];
    for (let i = 0; i < 5000; i++) lines.push(`  p${i}: { role_arn: "${roleArn('app')}", refresh: *r }`);
    const s = parseSchedule(lines.join('\n') + '\n', 'big.yaml', { env: {}, home: '/home/agent' });
    expect(s.profiles.length, 'profiles').to.equal(5000);
  });

  it('validate (the built CLI) exits 2 within seconds and says what it refused', async () => {
    const file = join(tmp.dir, 'bomb.yaml');
    writeFileSync(file, aliasBomb());
    const started = Date.now();
    const r = await runCli(['validate', '--config', file], cleanEnv(tmp.dir), 15_000);
    const ms = Date.now() - started;
    expect(r.stderr, 'stderr').to.contain('refused as a YAML alias bomb');
    expect(r.code, `exit code (null: killed at the 15 s deadline); stderr: ${r.stderr.slice(0, 300)}`).to.equal(2);
    expect(ms, 'ms for the whole process (node start-up included)').to.be.below(10_000);
  });

  describe('saved while run is running', () => {
    let w: World;
    before(async () => {
      w = await makeWorld();
    });
    after(async () => w?.cleanup());

    it('the agent rejects it, keeps its profile fresh and /healthz keeps answering', async () => {
      const credentials = join(tmp.dir, 'aws', 'credentials');
      const schedule = join(tmp.dir, 'schedule.yaml');
      const good = [
        `credentials_file: ${credentials}`,
        'defaults:',
        `  trust_anchor_arn: ${TRUST_ANCHOR_ARN}`,
        `  profile_arn: ${PROFILE_ARN}`,
        `  endpoint: ${w.emulator.httpsUrl}`,
        `  ca_bundle: ${w.caBundle}`,
        `  certificate: ${w.ecFiles.certificate}`,
        `  private_key: ${w.ecFiles.privateKey}`,
        'http: { listen: "127.0.0.1:0" }',
      ].join('\n');
      writeFileSync(schedule, `${good}\nprofiles:\n  app: { role_arn: "${roleArn('app')}" }\n`);
      const agent = spawnAgent(['run', '--config', schedule, '--log-format', 'json'], cleanEnv(tmp.dir));
      const first = await waitFor(() => tryReadCredentials(credentials)?.get('app'), 'the first credentials');
      const url = await waitFor(async () => {
        const st = await readState(credentials);
        return st?.http && 'url' in st.http ? st.http.url : undefined;
      }, 'the listener address in the state file');
      expect((await healthz(url)).status, '/healthz before').to.equal(200);

      const mark = agent.logs().length;
      writeFileSync(schedule, aliasBomb(`${good}\n`));
      agent.kill('SIGHUP');
      const rejected = await agent.waitForLog((r) => r.message === 'new schedule rejected; the previous one keeps running', { from: mark, timeoutMs: 15_000 });
      expect(String(rejected['errors']), 'the logged issue').to.contain('refused as a YAML alias bomb');
      const after = await healthz(url);
      expect([after.status, JSON.parse(after.body)], '/healthz after').to.deep.equal([200, { status: 'ok', profiles: 1, failing: [] }]);
      expect(tryReadCredentials(credentials)?.get('app'), 'the credentials are the same').to.deep.equal(first);
      agent.kill('SIGTERM');
      expect((await agent.exited).code, 'exit code after SIGTERM').to.equal(0);
    });
  });
});
