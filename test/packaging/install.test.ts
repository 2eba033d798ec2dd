/**
 * install.sh, run for real into temporary homes and prefixes with systemctl, useradd, getent and
 * launchctl replaced by fakes that only record their arguments (CI has no running systemd, and no
 * service is ever started). The units it writes go through `systemd-analyze verify`; the launchd
 * plist through Python's plistlib. One real install is shared: later installs into the same prefix
 * reuse its dependencies, as a re-install does.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseSchedule } from '../../src/config/index.js';
import { ensureBuilt } from '../cli/built-cli.js';
import { makePki, writePair } from '../helpers/pki.js';
import { makeTempDir } from '../helpers/tmp.js';
import { calls, exposure, fakeTools, INSTALL_SH, pathWithout, ROOT, runScript, systemPath, verifyUnits, type ScriptResult } from './helpers.js';
import { requireTools } from '../helpers/prerequisites.js';

const NAME = 'rolesanywhere-agent';
const LABEL = 'io.github.rolesanywhere-agent';
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** A unit file as key → values (a key may repeat). */
function unitKeys(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (kv) m.set(kv[1]!, [...(m.get(kv[1]!) ?? []), kv[2]!]);
  }
  return m;
}
const one = (m: Map<string, string[]>, k: string) => {
  const v = m.get(k);
  expect(v, `unit key ${k}`).to.have.lengthOf(1);
  return v![0]!;
};
const seconds = (v: string) => Number(/^(\d+)s?$/.exec(v)?.[1] ?? NaN);
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

function expectOk(r: ScriptResult, what: string): void {
  expect(r.code, `${what} exit code\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).to.equal(0);
}

describe('install.sh', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let home: string;
  let log: string;
  let fakes: string;
  let first: ScriptResult;
  const userEnv = () => ({ HOME: home, PATH: systemPath(fakes), FAKE: '1' });
  const prefix = () => join(home, '.local');
  const schedule = () => join(home, '.config', NAME, 'agent.yaml');
  const userUnit = () => join(home, '.config', 'systemd', 'user', `${NAME}.service`);
  const launcher = () => join(prefix(), 'bin', NAME);

  before(async function () {
    this.timeout(180_000);
    requireTools('systemd-analyze', 'python3');
    ensureBuilt();
    tmp = makeTempDir('ra-install-');
    home = join(tmp.dir, 'home');
    mkdirSync(home);
    log = join(tmp.dir, 'calls.log');
    fakes = fakeTools(join(tmp.dir, 'fakes'), log, { systemctl: 0 });
    first = await runScript('sh', [INSTALL_SH, '--user'], userEnv(), { timeoutMs: 170_000 });
  });
  after(() => tmp?.cleanup());

  describe('--user on Linux', () => {
    it('exits 0 and installs the built agent with its production dependencies only', () => {
      expectOk(first, 'install.sh --user');
      const lib = join(prefix(), 'lib', NAME);
      for (const f of ['dist/src/main.js', 'package.json', 'package-lock.json', 'config/schedule.schema.json', 'node_modules/yaml/package.json', 'install.sh']) {
        expect(existsSync(join(lib, f)), f).to.equal(true);
      }
      for (const dev of ['mocha', 'typescript', 'chai', 'tsx']) expect(existsSync(join(lib, 'node_modules', dev)), `dev dependency ${dev} left out`).to.equal(false);
    });

    it('puts a launcher in ~/.local/bin that runs the installed agent with the node that installed it', () => {
      const text = readFileSync(launcher(), 'utf8');
      expect(text).to.include(`exec '${process.execPath}' '${join(prefix(), 'lib', NAME, 'dist/src/main.js')}' "$@"`);
      expect(mode(launcher())).to.equal('755');
      const r = spawnSync(launcher(), ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
      expect(r.stdout).to.equal(`${NAME} ${VERSION}\n`);
    });

    it('writes a schedule skeleton (0600) derived from the example that validates and writes ~/.aws/credentials', () => {
      const text = readFileSync(schedule(), 'utf8');
      expect(mode(schedule())).to.equal('600');
      expect(text.split('\n')[0]).to.equal(`# yaml-language-server: $schema=${join(prefix(), 'lib', NAME, 'config', 'schedule.schema.json')}`);
      expect(text).to.include('systemctl --user start rolesanywhere-agent');
      const parsed = parseSchedule(text, schedule(), { env: {}, home });
      const example = parseSchedule(readFileSync(join(ROOT, 'config', 'agent.example.yaml'), 'utf8'), 'example', { env: {}, home });
      expect(parsed.credentialsFile).to.equal(join(home, '.aws', 'credentials'));
      expect(parsed.profiles.map((p) => [p.name, p.roleArn])).to.deep.equal(example.profiles.map((p) => [p.name, p.roleArn]));
    });

    it('writes a user unit that runs the launcher on that schedule, writes only the credentials directory, and passes systemd-analyze verify', () => {
      const text = readFileSync(userUnit(), 'utf8');
      const u = unitKeys(text);
      expect(one(u, 'ExecStart')).to.equal(`${launcher()} run --config ${schedule()} --log-format json`);
      expect(one(u, 'ExecReload')).to.equal('kill -HUP $MAINPID');
      expect(one(u, 'ReadWritePaths')).to.equal(join(home, '.aws'));
      expect(one(u, 'ProtectSystem')).to.equal('strict');
      expect(one(u, 'ProtectHome')).to.equal('read-only');
      expect(one(u, 'NoNewPrivileges')).to.equal('yes');
      expect(one(u, 'PrivateTmp')).to.equal('yes');
      expect(one(u, 'Restart')).to.equal('on-failure');
      expect(seconds(one(u, 'TimeoutStopSec'))).to.be.within(6, 30);
      expect(mode(join(home, '.aws'))).to.equal('700');
      const runtime = join(tmp.dir, 'xdg');
      mkdirSync(runtime, { recursive: true, mode: 0o700 });
      const v = verifyUnits([userUnit()], true, runtime);
      expect(v, 'systemd-analyze --user verify: exit 0 and not a single warning').to.deep.equal({ code: 0, output: '' });
    });

    it('enables the user service but does not start it while the schedule is a fresh skeleton', () => {
      expect(calls(log)).to.deep.equal(['systemctl --user daemon-reload', `systemctl --user enable ${NAME}.service`]);
      expect(first.stdout).to.include(`next: edit ${schedule()}`);
    });

    it('runs the demo from the installed tree (its production dependencies are enough)', async function () {
      this.timeout(30_000);
      const dir = join(tmp.dir, 'demo');
      const r = await runScript(launcher(), ['demo', '--dir', dir, '--duration', '4', '--rotate-after', '0'], { PATH: '/usr/bin:/bin', HOME: home }, { timeoutMs: 25_000 });
      expectOk(r, 'installed demo');
      const creds = readFileSync(join(dir, 'credentials'), 'utf8');
      expect(creds).to.match(/^\[demo-rsa\]$/m).and.match(/^\[demo-ec\]$/m);
    });

    it('run again with the skeleton still unedited, it keeps it byte for byte and does not restart a service that could not start, saying why', async () => {
      appendFileSync(schedule(), '# looked at, not edited\n');
      const before = readFileSync(schedule());
      writeFileSync(log, '');
      const r = await runScript('sh', [INSTALL_SH, '--user'], userEnv());
      expectOk(r, 'second install.sh --user');
      expect(readFileSync(schedule()).equals(before), 'schedule unchanged').to.equal(true);
      expect(r.stdout).to.include('dependencies unchanged: keeping the installed ones');
      expect(r.stdout).to.include(`schedule ${schedule()} exists: left as it is`);
      expect(calls(log), 'systemctl calls: no start, no restart').to.deep.equal(['systemctl --user daemon-reload', `systemctl --user enable ${NAME}.service`]);
      expect(r.stderr, 'stderr').to.include(`install.sh: warning: not (re)starting ${NAME}.service: the schedule ${schedule()} does not validate:`);
      expect(r.stderr, 'the problems validate found').to.include('the certificate /etc/pki/agent/host.pem does not exist');
      expect(r.stderr, 'what to do').to.include(`then: systemctl --user restart ${NAME}.service`);
    });

    it('run again with an edited schedule that validates, it keeps it byte for byte and restarts the service', async () => {
      const pki = await makePki('ec');
      const files = writePair(join(tmp.dir), 'install-ec', pki.directLeaf);
      const text = readFileSync(schedule(), 'utf8')
        .replace(/^  certificate: .*$/m, `  certificate: ${files.certificate}`)
        .replace(/^  private_key: .*$/m, `  private_key: ${files.privateKey}`)
        .replace(/^  intermediates: .*$/m, '');
      writeFileSync(schedule(), text + '# edited by hand\n');
      const before = readFileSync(schedule());
      writeFileSync(log, '');
      const r = await runScript('sh', [INSTALL_SH, '--user'], userEnv());
      expectOk(r, 'third install.sh --user');
      expect(readFileSync(schedule()).equals(before), 'schedule unchanged').to.equal(true);
      expect(calls(log)).to.deep.equal([
        'systemctl --user daemon-reload',
        `systemctl --user enable ${NAME}.service`,
        `systemctl --user restart ${NAME}.service`,
      ]);
      expect(r.stderr, 'stderr').not.to.include('does not validate');
    });
  });

  describe('system install into a temporary prefix', () => {
    let sys: string;
    let r: ScriptResult;
    let slog: string;
    before(async () => {
      sys = join(tmp.dir, 'system');
      slog = join(sys, 'calls.log');
      const tools = fakeTools(join(sys, 'fakes'), slog, { systemctl: 0, useradd: 0, getent: 2 });
      r = await runScript('sh', [INSTALL_SH, '--prefix', prefix(), '--config-dir', join(sys, 'etc', NAME), '--unit-dir', join(sys, 'units')], { HOME: home, PATH: systemPath(tools) });
    });

    it('creates the service user, installs the unit and enables it without starting it', () => {
      expectOk(r, 'system install');
      expect(calls(slog)).to.deep.equal([
        `getent passwd ${NAME}`,
        `useradd --system --user-group --home-dir /var/lib/${NAME} --no-create-home --shell /usr/sbin/nologin --comment ${NAME} ${NAME}`,
        'systemctl daemon-reload',
        `systemctl enable ${NAME}.service`,
      ]);
    });

    it('writes a skeleton the service user can read (0644) that fills /var/lib/rolesanywhere-agent/credentials', () => {
      const f = join(sys, 'etc', NAME, 'agent.yaml');
      expect(mode(f)).to.equal('644');
      expect(parseSchedule(readFileSync(f, 'utf8'), f, { env: {}, home }).credentialsFile).to.equal(`/var/lib/${NAME}/credentials`);
    });

    it('writes a hardened unit: only the credentials directory writable, SIGHUP reload, restart on failure, stop deadline above the 5 s the agent needs', () => {
      const unit = join(sys, 'units', `${NAME}.service`);
      const u = unitKeys(readFileSync(unit, 'utf8'));
      const credDir = dirname(parseSchedule(readFileSync(join(sys, 'etc', NAME, 'agent.yaml'), 'utf8'), 'x', { env: {}, home }).credentialsFile);
      expect(one(u, 'ExecStart')).to.equal(`${launcher()} run --config ${join(sys, 'etc', NAME, 'agent.yaml')} --log-format json`);
      expect(one(u, 'ExecReload')).to.equal('kill -HUP $MAINPID');
      expect(one(u, 'User')).to.equal(NAME);
      expect(one(u, 'ReadWritePaths')).to.equal(credDir);
      expect(one(u, 'StateDirectory')).to.equal(NAME);
      for (const [k, v] of [
        ['NoNewPrivileges', 'yes'],
        ['ProtectSystem', 'strict'],
        ['ProtectHome', 'yes'],
        ['PrivateTmp', 'yes'],
        ['Restart', 'on-failure'],
        ['UMask', '0077'],
        ['KillSignal', 'SIGTERM'],
      ]) {
        expect(one(u, k!), k).to.equal(v);
      }
      expect(seconds(one(u, 'TimeoutStopSec'))).to.be.within(6, 30);
      expect(u.has('MemoryDenyWriteExecute'), 'V8 needs W+X pages').to.equal(false);
    });

    it('the unit passes systemd-analyze verify without a warning, and its offline exposure score is at most 2.0', () => {
      const unit = join(sys, 'units', `${NAME}.service`);
      expect(verifyUnits([unit], false, join(tmp.dir, 'xdg')), 'systemd-analyze verify').to.deep.equal({ code: 0, output: '' });
      const e = exposure(unit);
      expect(e.level, e.output).to.be.a('number');
      expect(e.level!, e.output).to.be.at.most(2.0);
    });

    it('without systemctl it installs the unit and says systemd is missing, exit 0', async () => {
      const noSystemctl = pathWithout(join(sys, 'nosystemctl'), ['systemctl']);
      const tools = fakeTools(join(sys, 'fakes2'), slog, { useradd: 0, getent: 0 });
      const r2 = await runScript('sh', [INSTALL_SH, '--prefix', prefix(), '--config-dir', join(sys, 'etc2'), '--unit-dir', join(sys, 'units2')], { HOME: home, PATH: `${tools}:${noSystemctl}` });
      expectOk(r2, 'install without systemctl');
      expect(existsSync(join(sys, 'units2', `${NAME}.service`))).to.equal(true);
      expect(r2.stderr).to.include('systemctl not found: the unit is in place');
    });
  });

  describe('macOS (launchctl mocked)', () => {
    let mac: string;
    let r: ScriptResult;
    let mlog: string;
    before(async () => {
      mac = join(tmp.dir, 'mac');
      mkdirSync(mac);
      mlog = join(tmp.dir, 'mac.log');
      const tools = fakeTools(join(tmp.dir, 'macfakes'), mlog, { launchctl: 0 });
      r = await runScript('sh', [INSTALL_SH, '--user', '--prefix', prefix()], { HOME: mac, PATH: systemPath(tools), RA_INSTALL_OS: 'Darwin' });
    });

    it('installs a LaunchAgent plist that runs the launcher, restarts on failure only, and enables it without loading it', () => {
      expectOk(r, 'install.sh --user on macOS');
      const plistPath = join(mac, 'Library', 'LaunchAgents', `${LABEL}.plist`);
      const py = spawnSync('python3', ['-c', 'import json,plistlib,sys; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))', plistPath], { encoding: 'utf8' });
      expect(py.status, py.stderr).to.equal(0);
      const plist = JSON.parse(py.stdout) as Record<string, unknown>;
      expect(plist).to.deep.include({
        Label: LABEL,
        ProgramArguments: [launcher(), 'run', '--config', join(mac, '.config', NAME, 'agent.yaml'), '--log-format', 'json'],
        RunAtLoad: true,
        KeepAlive: { SuccessfulExit: false },
        Umask: 0o077,
        StandardErrorPath: join(mac, 'Library', 'Logs', `${NAME}.log`),
      });
      expect(plist['ExitTimeOut'] as number).to.be.within(6, 30);
      const uid = process.getuid!();
      expect(calls(mlog)).to.deep.equal([`launchctl bootout gui/${uid}/${LABEL}`, `launchctl enable gui/${uid}/${LABEL}`]);
      expect(mode(join(mac, '.aws'))).to.equal('700');
    });
  });

  describe('checks before doing anything', () => {
    let dir: string;
    beforeEach(() => {
      dir = join(tmp.dir, `checks-${Math.random().toString(36).slice(2)}`);
      mkdirSync(join(dir, 'home'), { recursive: true });
    });
    const fakeNode = (version: string) => {
      const bin = join(dir, 'node-bin');
      mkdirSync(bin, { recursive: true });
      writeFileSync(join(bin, 'node'), `#!/bin/sh\necho ${version}\n`);
      chmodSync(join(bin, 'node'), 0o755);
      return bin;
    };

    it('without node on PATH it exits 3 and says how to get Node.js', async () => {
      const path = pathWithout(join(dir, 'nonode'), ['node', 'nodejs', 'npm', 'npx', 'corepack']);
      const r = await runScript('sh', [INSTALL_SH, '--user'], { HOME: join(dir, 'home'), PATH: path });
      expect(r.code, r.stderr).to.equal(3);
      expect(r.stderr).to.match(/Node\.js >= 20\.19 is needed and 'node' is not on PATH — install Node\.js 20/);
      expect(readdirSync(join(dir, 'home'))).to.deep.equal([]);
    });

    for (const old of ['18.20.4', '20.18.3']) {
      it(`with Node.js ${old} it exits 4 naming the version`, async () => {
        const r = await runScript('sh', [INSTALL_SH, '--user'], { HOME: join(dir, 'home'), PATH: systemPath(fakeNode(old)) });
        expect(r.code, r.stderr).to.equal(4);
        expect(r.stderr).to.include(`is Node.js ${old}; rolesanywhere-agent needs >= 20.19`);
        expect(readdirSync(join(dir, 'home'))).to.deep.equal([]);
      });
    }

    it('Node.js 20.19.0 is enough (dry run)', async () => {
      const r = await runScript('sh', [INSTALL_SH, '--user', '--dry-run'], { HOME: join(dir, 'home'), PATH: systemPath(fakeNode('20.19.0')) });
      expectOk(r, 'dry run with node 20.19.0');
    });

    it('--dry-run prints every step and changes nothing', async () => {
      const dlog = join(dir, 'calls.log');
      const tools = fakeTools(join(dir, 'fakes'), dlog, { systemctl: 0 });
      const h = join(dir, 'home');
      const r = await runScript('sh', [INSTALL_SH, '--user', '--dry-run'], { HOME: h, PATH: systemPath(tools) });
      expectOk(r, 'dry run');
      expect(r.stdout).to.include(`+ write ${join(h, '.local', 'bin', NAME)} (mode 755)`);
      expect(r.stdout).to.include(`+ write ${join(h, '.config', NAME, 'agent.yaml')} (mode 600)`);
      expect(r.stdout).to.include(`+ write ${join(h, '.config', 'systemd', 'user', `${NAME}.service`)} (mode 644)`);
      expect(r.stdout).to.include(`+ systemctl --user enable ${NAME}.service`);
      expect(readdirSync(h), 'nothing written in HOME').to.deep.equal([]);
      expect(calls(dlog), 'no system tool run').to.deep.equal([]);
    });

    it('from an npm pack tree (built, no lock file, no sources, no node_modules) it installs from the registry without building (dry run)', async () => {
      const tree = join(dir, 'package');
      for (const p of ['package.json', 'install.sh', 'packaging', 'config', 'dist/src']) cpSync(join(ROOT, p), join(tree, p), { recursive: true });
      const h = join(dir, 'home');
      const r = await runScript('sh', [join(tree, 'install.sh'), '--user', '--dry-run'], { HOME: h, PATH: systemPath(fakeTools(join(dir, 'fakes'), join(dir, 'log'), { systemctl: 0 })) });
      expectOk(r, 'dry run from a pack tree');
      expect(r.stdout).to.match(/^\+ sh -c cd "\$1" && "\$2" install --omit=dev .* sh .*\.new\.\d+ \S*npm$/m);
      expect(r.stdout).to.not.match(/building|prune| ci /);
      expect(readdirSync(h)).to.deep.equal([]);
    });

    it('an unknown option exits 2 with the usage; --help exits 0', async () => {
      const r = await runScript('sh', [INSTALL_SH, '--frobnicate'], { HOME: join(dir, 'home'), PATH: systemPath() });
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/^Usage: \.\/install\.sh/m).and.include('unknown option --frobnicate');
      const h = await runScript('sh', [INSTALL_SH, '--help'], { PATH: systemPath() });
      expect(h.code).to.equal(0);
      expect(h.stdout).to.include('Exit codes: 0 done, 1 failed, 2 bad usage, 3 Node.js or npm not found, 4 Node.js too old.');
    });
  });

  describe('--uninstall', () => {
    it('removes the agent, the launcher and the unit, disables the service, and keeps the schedule and the credentials', async () => {
      mkdirSync(join(home, '.aws'), { recursive: true });
      writeFileSync(join(home, '.aws', 'credentials'), '[default]\naws_access_key_id = AKIDEXAMPLE\n');
      writeFileSync(log, '');
      const r = await runScript('sh', [INSTALL_SH, '--user', '--uninstall'], userEnv());
      expectOk(r, 'uninstall');
      expect(existsSync(join(prefix(), 'lib', NAME)), 'lib dir').to.equal(false);
      expect(existsSync(launcher()), 'launcher').to.equal(false);
      expect(existsSync(userUnit()), 'unit').to.equal(false);
      expect(existsSync(schedule()), 'schedule kept').to.equal(true);
      expect(readFileSync(join(home, '.aws', 'credentials'), 'utf8'), 'credentials kept').to.include('AKIDEXAMPLE');
      expect(calls(log)).to.deep.equal([`systemctl --user disable --now ${NAME}.service`, 'systemctl --user daemon-reload']);
      expect(r.stdout).to.include(`kept: the schedule (${schedule()})`);
    });

    it('run again, it has nothing left to do and exits 0', async () => {
      const r = await runScript('sh', [INSTALL_SH, '--user', '--uninstall'], userEnv());
      expectOk(r, 'second uninstall');
      expect(r.stdout).to.not.include('removing');
    });
  });
});

// The skeleton's YAML is checked against the example by parseSchedule above; parse it once more as
// plain YAML so a comment-only mistake in skeleton.sh (an unterminated line) shows as a YAML error.
describe('packaging/skeleton.sh', () => {
  it('prints the example with the given credentials file and schema path, as valid YAML', () => {
    const r = spawnSync('sh', [join(ROOT, 'packaging', 'skeleton.sh'), '/srv/a|b&c/credentials', '/opt/schema.json', 'start it'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const data = parseYaml(r.stdout) as { credentials_file: string };
    expect(data.credentials_file).to.equal('/srv/a|b&c/credentials');
    expect(r.stdout.split('\n')[0]).to.equal('# yaml-language-server: $schema=/opt/schema.json');
    expect(r.stdout).to.include('# and then start the agent: start it');
  });
});
