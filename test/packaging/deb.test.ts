/**
 * `npm run deb`: builds the package (gzip, to keep the test fast) into a temp dir and reads it back
 * with dpkg-deb — control fields, conffiles, file list and owners — then extracts it and checks the
 * units, the launcher, the skeleton, the maintainer scripts (run against fake system tools) and that
 * the packaged agent runs on the packaged dependencies.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSchedule } from '../../src/config/index.js';
import { ensureBuilt } from '../cli/built-cli.js';
import { makePki, writePair, type WrittenPair } from '../helpers/pki.js';
import { makeTempDir } from '../helpers/tmp.js';
import { PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN } from '../helpers/world.js';
import { calls, fakeTools, ROOT, runScript, systemPath } from './helpers.js';
import { requireTools } from '../helpers/prerequisites.js';

const NAME = 'rolesanywhere-agent';
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function fill(template: string, confdir: string, creddir: string): string {
  return readFileSync(join(ROOT, 'packaging', 'systemd', template), 'utf8')
    .replaceAll('@BINDIR@', '/usr/bin')
    .replaceAll('@CONFDIR@', confdir)
    .replaceAll('@CREDDIR@', creddir);
}

describe('npm run deb', function () {
  this.timeout(30_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let deb: string;
  let tree: string;
  let listing: string[];

  before(async function () {
    this.timeout(120_000);
    requireTools('dpkg-deb');
    ensureBuilt();
    tmp = makeTempDir('ra-deb-');
    const out = join(tmp.dir, 'out');
    const r = await runScript('npm', ['run', '--silent', 'deb', '--', '--out', out, '--compression', 'gzip'], { PATH: process.env['PATH'], HOME: join(tmp.dir) }, { timeoutMs: 110_000 });
    expect(r.code, `npm run deb\n${r.stdout}\n${r.stderr}`).to.equal(0);
    const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
    deb = join(out, `${NAME}_${VERSION}_${arch}.deb`);
    expect(r.stdout.trim()).to.equal(deb);
    tree = join(tmp.dir, 'tree');
    execFileSync('dpkg-deb', ['-x', deb, tree]);
    listing = execFileSync('dpkg-deb', ['--contents', deb], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n').filter(Boolean);
  });
  after(() => tmp?.cleanup());

  it('has the control fields of this version and architecture, depending on Node.js >= 20.19', () => {
    const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
    const field = (f: string) => execFileSync('dpkg-deb', ['--field', deb, f], { encoding: 'utf8' }).trim();
    expect(field('Package')).to.equal(NAME);
    expect(field('Version')).to.equal(VERSION);
    expect(field('Architecture')).to.equal(arch);
    expect(field('Depends')).to.include('nodejs (>= 20.19)');
    expect(field('Maintainer')).to.match(/<.+@.+>/);
    expect(Number(field('Installed-Size'))).to.be.greaterThan(1000);
    const info = execFileSync('dpkg-deb', ['--info', deb], { encoding: 'utf8' });
    for (const f of ['conffiles', 'control', 'postinst', 'prerm', 'postrm']) expect(info, `control member ${f}`).to.match(new RegExp(`\\b${f}\\b`));
  });

  it('marks the schedule skeleton as a conffile, so dpkg never overwrites an edited schedule', () => {
    const conffiles = execFileSync('sh', ['-c', `dpkg-deb --ctrl-tarfile '${deb}' | tar -xO ./conffiles`], { encoding: 'utf8' });
    expect(conffiles).to.equal(`/etc/${NAME}/agent.yaml\n`);
  });

  it('ships the launcher, the agent, both units and the skeleton, all owned by root, and no dev dependency or installer leftovers', () => {
    const paths = listing.map((l) => l.split(/\s+/).slice(5).join(' '));
    for (const p of [
      './usr/bin/rolesanywhere-agent',
      './usr/lib/rolesanywhere-agent/dist/src/main.js',
      './usr/lib/rolesanywhere-agent/config/schedule.schema.json',
      './usr/lib/rolesanywhere-agent/node_modules/yaml/package.json',
      './usr/lib/systemd/system/rolesanywhere-agent.service',
      './usr/lib/systemd/user/rolesanywhere-agent.service',
      './etc/rolesanywhere-agent/agent.yaml',
      './usr/share/doc/rolesanywhere-agent/copyright',
    ]) {
      expect(paths, p).to.include(p);
    }
    for (const absent of ['mocha', 'typescript', 'tsx', 'chai']) {
      expect(paths.some((p) => p.includes(`/node_modules/${absent}/`)), `dev dependency ${absent}`).to.equal(false);
    }
    expect(paths.some((p) => p.endsWith('install-manifest') || p.endsWith('/install.sh')), 'installer leftovers').to.equal(false);
    expect(paths.some((p) => p.includes('/dist/test/')), 'compiled tests').to.equal(false);
    const owners = new Set(listing.map((l) => l.split(/\s+/)[1]));
    expect([...owners]).to.deep.equal(['root/root']);
    const launcherLine = listing.find((l) => l.endsWith(' ./usr/bin/rolesanywhere-agent'))!;
    expect(launcherLine.startsWith('-rwxr-xr-x'), launcherLine).to.equal(true);
  });

  it('the launcher runs /usr/bin/node on the packaged agent', () => {
    expect(readFileSync(join(tree, 'usr/bin/rolesanywhere-agent'), 'utf8')).to.include(`exec '/usr/bin/node' '/usr/lib/${NAME}/dist/src/main.js' "$@"`);
  });

  it('the units are the packaging templates with the package paths (%h in the user unit)', () => {
    expect(readFileSync(join(tree, 'usr/lib/systemd/system', `${NAME}.service`), 'utf8')).to.equal(fill(`${NAME}.service`, `/etc/${NAME}`, `/var/lib/${NAME}`));
    expect(readFileSync(join(tree, 'usr/lib/systemd/user', `${NAME}.service`), 'utf8')).to.equal(fill(`${NAME}.user.service`, `%h/.config/${NAME}`, '%h/.aws'));
  });

  it('the skeleton validates, fills /var/lib/rolesanywhere-agent/credentials and tells how to start the service', () => {
    const text = readFileSync(join(tree, 'etc', NAME, 'agent.yaml'), 'utf8');
    expect(parseSchedule(text, 'deb skeleton', { env: {}, home: '/nonexistent' }).credentialsFile).to.equal(`/var/lib/${NAME}/credentials`);
    expect(text).to.include(`systemctl start ${NAME}`);
    expect(text.split('\n')[0]).to.equal(`# yaml-language-server: $schema=/usr/lib/${NAME}/config/schedule.schema.json`);
  });

  it('the packaged agent runs on the packaged dependencies', () => {
    const r = spawnSync(process.execPath, [join(tree, 'usr/lib', NAME, 'dist/src/main.js'), '--version'], { encoding: 'utf8' });
    expect(r.stdout, r.stderr).to.equal(`${NAME} ${VERSION}\n`);
  });

  describe('maintainer scripts (system tools faked)', () => {
    const scripts = () => join(tmp.dir, 'ctrl');
    before(() => {
      execFileSync('dpkg-deb', ['--control', deb, scripts()]);
    });
    const systemdRunning = existsSync('/run/systemd/system');

    it('postinst on first install creates the service user and enables the service without starting it', async () => {
      const log = join(tmp.dir, 'first.log');
      const tools = fakeTools(join(tmp.dir, 'f1'), log, { getent: 2, useradd: 0, systemctl: 0 });
      const r = await runScript('sh', [join(scripts(), 'postinst'), 'configure', ''], { PATH: systemPath(tools) });
      expect(r.code, r.stderr).to.equal(0);
      const c = calls(log);
      expect(c).to.include(`useradd --system --user-group --home-dir /var/lib/${NAME} --no-create-home --shell /usr/sbin/nologin --comment ${NAME} ${NAME}`);
      expect(c).to.include(`systemctl enable ${NAME}.service`);
      expect(c.filter((x) => /\b(start|restart|try-restart)\b/.test(x)), 'nothing started').to.deep.equal([]);
      expect(r.stdout).to.include(`edit /etc/${NAME}/agent.yaml`);
    });

    it('postinst on upgrade keeps the user, does not re-enable, and restarts only a running service', async () => {
      const log = join(tmp.dir, 'upgrade.log');
      const tools = fakeTools(join(tmp.dir, 'f2'), log, { getent: 0, useradd: 0, systemctl: 0 });
      const r = await runScript('sh', [join(scripts(), 'postinst'), 'configure', '0.0.9'], { PATH: systemPath(tools) });
      expect(r.code, r.stderr).to.equal(0);
      const c = calls(log);
      expect(c.some((x) => x.startsWith('useradd')), 'no useradd').to.equal(false);
      expect(c.some((x) => x.includes(' enable ')), 'no enable').to.equal(false);
      expect(c.includes(`systemctl try-restart ${NAME}.service`)).to.equal(systemdRunning);
    });

    describe('postinst on upgrade with systemd running and the service active', () => {
      let pair: WrittenPair;
      before(async () => {
        const pki = await makePki('ec');
        pair = writePair(tmp.dir, 'upgrade', pki.directLeaf);
      });

      /**
       * The packaged postinst with its three system paths pointed into `dir` (each replaced exactly
       * once, or the test fails): systemd counted as running, the agent the packaged tree's real one,
       * the schedule `schedule`. runuser is faked to record the call and run the command as us.
       */
      function upgradeRun(dir: string, schedule: string): { script: string; log: string; env: NodeJS.ProcessEnv } {
        mkdirSync(dir, { recursive: true });
        const log = join(dir, 'calls.log');
        const tools = fakeTools(join(dir, 'bin'), log, { getent: 0, useradd: 0, systemctl: 0 });
        writeFileSync(join(tools, 'runuser'), `#!/bin/sh\nprintf '%s\\n' "runuser $*" >> '${log}'\nwhile [ "$1" != -- ]; do shift; done\nshift\nexec "$@"\n`, { mode: 0o755 });
        const agent = join(dir, 'agent');
        writeFileSync(agent, `#!/bin/sh\nexec '${process.execPath}' '${join(tree, 'usr/lib', NAME, 'dist/src/main.js')}' "$@"\n`, { mode: 0o755 });
        let text = readFileSync(join(scripts(), 'postinst'), 'utf8');
        const swap = (from: string, to: string): void => {
          expect(text.split(from).length - 1, `occurrences of ${from} in postinst`).to.equal(1);
          text = text.replace(from, to);
        };
        swap(`agent=/usr/bin/${NAME}\n`, `agent='${agent}'\n`);
        swap(`schedule=/etc/${NAME}/agent.yaml\n`, `schedule='${schedule}'\n`);
        swap('systemd_running() { [ -d /run/systemd/system ]; }', 'systemd_running() { true; }');
        const script = join(dir, 'postinst');
        writeFileSync(script, text, { mode: 0o755 });
        return { script, log, env: { PATH: systemPath(tools), HOME: dir } };
      }

      it('restarts the service when the schedule validates (as the service user)', async () => {
        const dir = join(tmp.dir, 'up-good');
        mkdirSync(dir, { recursive: true });
        const schedule = join(dir, 'agent.yaml');
        writeFileSync(
          schedule,
          `credentials_file: ${join(dir, 'credentials')}\nprofiles:\n  app:\n    certificate: ${pair.certificate}\n    private_key: ${pair.privateKey}\n` +
            `    trust_anchor_arn: ${TRUST_ANCHOR_ARN}\n    profile_arn: ${PROFILE_ARN}\n    role_arn: ${roleArn('app')}\n`,
        );
        const run = upgradeRun(dir, schedule);
        const r = await runScript('sh', [run.script, 'configure', '0.0.9'], run.env);
        expect(r.code, r.stderr).to.equal(0);
        const c = calls(run.log);
        expect(c, 'validated as the service user').to.include(`runuser -u ${NAME} -- ${join(dir, 'agent')} validate --config ${schedule}`);
        expect(c, r.stderr).to.include(`systemctl try-restart ${NAME}.service`);
        expect(r.stderr, 'stderr').to.equal('');
      });

      it('leaves the running service alone and says why when the schedule does not validate', async () => {
        const dir = join(tmp.dir, 'up-bad');
        mkdirSync(dir, { recursive: true });
        const schedule = join(dir, 'agent.yaml');
        writeFileSync(schedule, `credentials_file: ${join(dir, 'credentials')}\nprofiles:\n  app:\n    role_arn: ${roleArn('app')}\n    regoin: eu-west-1\n`);
        const run = upgradeRun(dir, schedule);
        const r = await runScript('sh', [run.script, 'configure', '0.0.9'], run.env);
        expect(r.code, r.stderr).to.equal(0);
        const c = calls(run.log);
        expect(c.filter((x) => /\b(start|restart|try-restart|stop)\b/.test(x)), 'no restart, start or stop').to.deep.equal([]);
        expect(r.stderr).to.include(`not restarting ${NAME}.service: the schedule ${schedule} does not validate`);
        expect(r.stderr, 'the validation problem, indented').to.include('    ').and.to.include('unknown key "regoin"');
        expect(r.stderr).to.include(`then: systemctl restart ${NAME}`);
      });
    });

    it('prerm on removal disables the service; on upgrade it does nothing', async () => {
      const log = join(tmp.dir, 'prerm.log');
      const tools = fakeTools(join(tmp.dir, 'f3'), log, { systemctl: 0 });
      expect((await runScript('sh', [join(scripts(), 'prerm'), 'upgrade', '0.2.0'], { PATH: systemPath(tools) })).code).to.equal(0);
      expect(calls(log)).to.deep.equal([]);
      expect((await runScript('sh', [join(scripts(), 'prerm'), 'remove'], { PATH: systemPath(tools) })).code).to.equal(0);
      expect(calls(log)).to.include(`systemctl disable ${NAME}.service`);
    });
  });
});
