/**
 * The README's first command, in a clean clone of this repository: `npm ci && npm start`. The
 * `npm ci` part is replaced by a link to this checkout's node_modules (same lock file, and a real
 * `npm ci` would cost minutes); the rest runs exactly as written, with the demo bounded by its own
 * flags. It must leave ./.demo/credentials holding both demo profiles, show the rotated
 * certificate being picked up, and leave the clone's working tree clean (.demo/ is ignored).
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../helpers/tmp.js';
import { ROOT, runScript } from './helpers.js';
import { requireTools } from '../helpers/prerequisites.js';

/** The first line of the README's first sh block, without its comment. */
export function readmeFirstCommand(readme: string): string {
  const block = /```sh\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README.md has no ```sh block');
  return block[1]!.split('\n')[0]!.replace(/\s+#.*$/, '').trim();
}

describe("the README's first command in a clean clone", function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let clone: string;
  let output: string;
  let code: number | null;
  const DURATION = 12;
  const ROTATE_AFTER = 4;

  before(async function () {
    this.timeout(150_000);
    requireTools('git');
    const command = readmeFirstCommand(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    const parts = command.split('&&').map((p) => p.trim());
    expect(parts, `README's first command is "${command}"`).to.deep.equal(['npm ci', 'npm start']);
    tmp = makeTempDir('ra-demo-');
    clone = join(tmp.dir, 'clone');
    execFileSync('git', ['clone', '--quiet', ROOT, clone], { stdio: 'pipe' });
    symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(clone, 'node_modules'));
    const home = join(tmp.dir, 'home');
    mkdirSync(home);
    const env = { PATH: process.env['PATH'], HOME: home, npm_config_update_notifier: 'false', npm_config_fund: 'false' };
    const rest = parts.slice(1).join(' && ');
    const r = await runScript('sh', ['-c', `${rest} -- --duration ${DURATION} --rotate-after ${ROTATE_AFTER}`], env, { cwd: clone, timeoutMs: 140_000 });
    code = r.code;
    output = r.stdout + r.stderr;
  });
  after(() => tmp?.cleanup());

  it('exits 0 once the demo has run its time', () => {
    expect(code, output).to.equal(0);
    expect(output).to.match(/\[demo\] stopped\n/);
  });

  it('leaves ./.demo/credentials (0600) holding both demo profiles with all three keys', () => {
    const file = join(clone, '.demo', 'credentials');
    expect((statSync(file).mode & 0o777).toString(8)).to.equal('600');
    const text = readFileSync(file, 'utf8');
    for (const profile of ['demo-rsa', 'demo-ec']) {
      const section = new RegExp(`^\\[${profile}\\]\\n(?:[^\\[].*\\n)*`, 'm').exec(text)?.[0] ?? '';
      for (const key of ['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token']) {
        expect(section, `${profile} has ${key}`).to.match(new RegExp(`^${key} = \\S+$`, 'm'));
      }
    }
  });

  it('logs that the rotated certificate was picked up, with the serial the demo rotated to, and refreshes with it', () => {
    const rotated = /\[demo\] rotated the RSA demo certificate: new serial ([0-9A-F]+)/.exec(output);
    expect(rotated, output).to.not.equal(null);
    // The agent logs JSON lines (stderr is not a terminal); the demo's own lines start with [demo].
    const records = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const pickup = records.findIndex((r) => r['message'] === 'rotated certificate picked up');
    expect(pickup, 'pickup record').to.be.greaterThan(-1);
    expect(records[pickup]).to.deep.include({ certificate: join(clone, '.demo', 'rsa.crt.pem'), new_serial: rotated![1] });
    const refreshedAfter = records.slice(pickup).some((r) => r['message'] === 'credentials refreshed' && r['profile'] === 'demo-rsa');
    expect(refreshedAfter, 'demo-rsa refreshed after the pickup').to.equal(true);
  });

  it('leaves the working tree clean: .demo/ and dist/ are ignored by git', () => {
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: clone, encoding: 'utf8' })).to.equal('');
    execFileSync('git', ['check-ignore', '--quiet', '.demo/credentials'], { cwd: clone });
  });
});
