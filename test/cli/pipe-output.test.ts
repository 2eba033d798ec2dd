/**
 * Output into a pipe whose reader is slow (`status --json | jq` on a busy host): the built CLI must
 * hand every byte to the pipe before it exits, and its exit code must survive. A pipe holds 64 KiB;
 * 5,000 profiles print megabytes, so anything the process drops at exit shows as a cut document.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/io.js';
import { makeTempDir } from '../helpers/tmp.js';
import { PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN } from '../helpers/world.js';
import { ensureBuilt, MAIN } from './built-cli.js';

const PROFILES = 5000;

/** Runs `node main.js args | (sleep 1; cat > out)` in bash; returns the CLI's own exit code and what the reader got. */
function pipeThroughSlowReader(args: string[], out: string, home: string): Promise<{ code: number; bytes: string; stderr: string }> {
  const script = 'node "$0" "$@" 2>"$ERR" | (sleep 1; cat > "$OUT"); exit "${PIPESTATUS[0]}"';
  const err = `${out}.err`;
  return new Promise((resolve) => {
    execFile('bash', ['-c', script, MAIN, ...args], { env: { PATH: process.env['PATH'], HOME: home, OUT: out, ERR: err }, timeout: 60_000 }, (e) => {
      const code = e ? (typeof (e as { code?: unknown }).code === 'number' ? ((e as { code: number }).code) : -1) : 0;
      resolve({ code, bytes: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') });
    });
  });
}

describe('output into a slow pipe (5,000 profiles)', function () {
  this.timeout(90_000);
  let dir: string;
  let cleanup: () => void;
  let schedule: string;

  before(function () {
    this.timeout(120_000);
    ensureBuilt();
    ({ dir, cleanup } = makeTempDir('ra-pipe-'));
    const profiles: Record<string, unknown> = {};
    for (let i = 0; i < PROFILES; i++) profiles[`p${i}`] = { role_arn: roleArn('app') };
    // Key files that do not exist: every profile fails at once without a network call, and each
    // still prints a row (with its error), which is what makes the output large.
    schedule = join(dir, 'schedule.yaml');
    writeFileSync(
      schedule,
      JSON.stringify({
        credentials_file: join(dir, 'aws', 'credentials'),
        defaults: {
          trust_anchor_arn: TRUST_ANCHOR_ARN,
          profile_arn: PROFILE_ARN,
          certificate: join(dir, 'missing.pem'),
          private_key: join(dir, 'missing.key'),
          endpoint: 'http://127.0.0.1:9',
        },
        profiles,
        rate_limit: { per_second: 1000, burst: 1000, concurrency: 64 },
      }),
      { mode: 0o600 },
    );
  });
  after(() => cleanup?.());

  it('status --json: the reader gets the whole document and the exit code is the command\'s', async () => {
    const r = await pipeThroughSlowReader(['status', '--json', '--config', schedule], join(dir, 'status.out'), dir);
    expect(r.bytes.length, 'bytes read (a cut document is 65536 long)').to.be.greaterThan(65_536);
    const doc = JSON.parse(r.bytes) as { profiles: unknown[] };
    expect(doc.profiles.length, 'profiles in the document').to.equal(PROFILES);
    expect(r.code, `exit code; stderr: ${r.stderr.slice(0, 500)}`).to.equal(EXIT.PARTIAL);
  });

  it('validate --json: the reader gets every row and the exit code 2 of the missing files', async () => {
    const r = await pipeThroughSlowReader(['validate', '--json', '--config', schedule], join(dir, 'validate.out'), dir);
    const doc = JSON.parse(r.bytes) as { valid: boolean; profiles: unknown[] };
    expect(doc.profiles.length, 'rows in the document').to.equal(PROFILES);
    expect(doc.valid, 'valid').to.equal(false);
    expect(r.code, `exit code; stderr: ${r.stderr.slice(0, 500)}`).to.equal(EXIT.BAD_INPUT);
  });

  it('once --json: every profile is reported (more than the quota burst) and the exit code says some failed', async () => {
    const r = await pipeThroughSlowReader(['once', '--json', '--config', schedule], join(dir, 'once.out'), dir);
    expect(r.bytes.length, `bytes read; stderr ends: ${r.stderr.slice(-300)}`).to.be.greaterThan(65_536);
    const results = JSON.parse(r.bytes) as Array<{ name: string; state: string }>;
    expect(results.length, 'results').to.equal(PROFILES);
    expect(results.every((x) => x.state !== 'fresh'), 'every profile failed (no key files)').to.equal(true);
    expect(r.code, 'exit code').to.equal(EXIT.PARTIAL);
  });
});
