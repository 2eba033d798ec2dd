/**
 * The container image and the Kubernetes sidecar, built and run for real with podman: build.sh
 * (with a stand-in base made by debootstrap when node:20-bookworm-slim cannot be pulled), `once`
 * in a read-only container filling a mounted credentials file against the emulator, the user,
 * SIGTERM, and packaging/kubernetes/play.sh end to end.
 *
 * Needs root (rootful podman with runc and cgroupfs; debootstrap for the stand-in base). Podman
 * keeps its images for these tests in /var/cache/rolesanywhere-agent-ci/podman (overlay storage,
 * or vfs where /var/cache is itself on overlayfs), next to the cached stand-in root file system,
 * so a second run rebuilds only what changed.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'ini';
import { requireTools, MissingPrerequisite } from '../helpers/prerequisites.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';
import { ROOT, runScript, type ScriptResult } from './helpers.js';

const CACHE = '/var/cache/rolesanywhere-agent-ci';
const UID = 1000;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const IMAGE = 'localhost/rolesanywhere-agent';

function storageDriver(): string {
  mkdirSync(CACHE, { recursive: true });
  const fs = execFileSync('stat', ['-f', '-c', '%T', CACHE], { encoding: 'utf8' }).trim();
  return fs === 'overlayfs' ? 'vfs' : 'overlay';
}

/** The environment build.sh, play.sh and podman itself get: the tests' own podman storage. */
function podmanEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'] ?? '/root',
    ...(process.env['npm_config_cafile'] ? { NPM_CA_FILE: process.env['npm_config_cafile'] } : {}),
    ...(process.env['NODE_EXTRA_CA_CERTS'] ? { NODE_EXTRA_CA_CERTS: process.env['NODE_EXTRA_CA_CERTS'] } : {}),
    CONTAINERS_CONF: join(ROOT, 'packaging', 'container', 'containers.conf'),
    PODMAN_FLAGS: `--root ${CACHE}/podman/storage --runroot /run/rolesanywhere-agent-ci/podman --storage-driver ${storageDriver()} --runtime runc --cgroup-manager cgroupfs`,
  };
}

let env: NodeJS.ProcessEnv;
function podman(args: string[], timeoutMs = 120_000): Promise<ScriptResult> {
  return runScript('podman', [...env['PODMAN_FLAGS']!.split(' '), ...args], env, { timeoutMs });
}

function tail(s: string, lines = 15): string {
  return s.trim().split('\n').slice(-lines).join('\n');
}

describe('the container image and the sidecar, run with podman', function () {
  this.timeout(120_000);
  let build: ScriptResult;
  let buildMs = 0;

  before(async function () {
    this.timeout(40 * 60_000);
    requireTools('podman', 'openssl');
    if (process.getuid?.() !== 0) throw new MissingPrerequisite('the container tests need root (rootful podman with runc/cgroupfs, debootstrap for the stand-in base): run npm test as root');
    env = podmanEnv();
    const start = performance.now();
    build = await runScript(join(ROOT, 'packaging', 'container', 'build.sh'), [], env, { timeoutMs: 40 * 60_000 });
    buildMs = performance.now() - start;
    expect(build.code, `build.sh exit code; its output ends with:\n${tail(build.stderr)}`).to.equal(0);
  });

  it('build.sh tags <version> and latest, says which podman settings it used, and the image runs as uid 1000 with a HEALTHCHECK and no build tools', async () => {
    expect(build.stdout.trim()).to.equal(`rolesanywhere-agent:${VERSION}`);
    expect(build.stderr).to.match(/^build\.sh: podman --root \S+ --runroot \S+ --storage-driver \S+ --runtime runc --cgroup-manager cgroupfs, CONTAINERS_CONF=\S+containers\.conf/m);
    process.stderr.write(`      (build.sh took ${(buildMs / 1000).toFixed(0)} s)\n`);
    const label = await podman(['image', 'inspect', '--format', '{{ index .Config.Labels "io.github.rolesanywhere-agent.standin" }}', 'docker.io/library/node:20-bookworm-slim']);
    if (label.stdout.trim() && label.stdout.trim() !== '<no value>') {
      const lines = build.stderr.split('\n').filter((l) => /stand-in/.test(l));
      expect(lines, 'a stand-in base is announced in one line').to.have.length(1);
      expect(lines[0]).to.match(/^build\.sh: node:20-bookworm-slim (could not be pulled: using a stand-in built here|is the stand-in built here earlier) \(Debian bookworm/);
    }
    const ids = await podman(['image', 'inspect', '--format', '{{.Id}}', `${IMAGE}:${VERSION}`, `${IMAGE}:latest`]);
    const [a, b] = ids.stdout.trim().split('\n');
    expect(a, 'both tags name one image').to.equal(b);
    const cfg = await podman(['image', 'inspect', '--format', '{{.Config.User}}|{{json .Config.Healthcheck.Test}}|{{.Config.StopSignal}}', `${IMAGE}:latest`]);
    expect(cfg.stdout.trim()).to.equal('1000:1000|["CMD","node","/opt/rolesanywhere-agent/dist/src/main.js","status","--config","/etc/rolesanywhere-agent/agent.yaml"]|SIGTERM');
    const probe = await podman(['run', '--rm', '--no-healthcheck', '--network', 'none', '--read-only', '--entrypoint', 'sh', `${IMAGE}:latest`, '-c',
      'id -u; for t in g++ gcc make python3 tsc; do command -v $t; done; ls /opt/rolesanywhere-agent/node_modules/typescript /opt/rolesanywhere-agent/node_modules/mocha 2>&1 | grep -c "No such"']);
    expect(probe.stdout.trim().split('\n'), 'uid 1000, no compiler or python, no dev dependency').to.deep.equal(['1000', '2']);
  });

  describe('with the emulator on the host', () => {
    let w: World;
    let dir: string;
    /** The mounts of a container whose credentials directory is `aws` (each test its own). */
    let volumes: (aws: string) => string[];
    before(async () => {
      w = await makeWorld();
      dir = join(w.dir, 'container');
      // What the container mounts, owned by its user as an administrator would set it up.
      for (const d of ['pki', 'etc', 'aws-once', 'aws-run']) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
      copyFileSync(w.ecFiles.certificate, join(dir, 'pki', 'host.pem'));
      copyFileSync(w.ecFiles.privateKey, join(dir, 'pki', 'host.key'));
      copyFileSync(w.caBundle, join(dir, 'pki', 'emulator-ca.pem'));
      writeFileSync(join(dir, 'etc', 'agent.yaml'), [
        'credentials_file: /var/run/aws/credentials',
        'defaults:',
        '  certificate: /pki/host.pem',
        '  private_key: /pki/host.key',
        `  trust_anchor_arn: ${TRUST_ANCHOR_ARN}`,
        `  profile_arn: ${PROFILE_ARN}`,
        `  endpoint: ${w.emulator.httpsUrl}`,
        '  ca_bundle: /pki/emulator-ca.pem',
        'profiles:',
        `  app: { role_arn: "${roleArn('app')}" }`,
        '',
      ].join('\n'));
      writeFileSync(join(dir, 'aws-once', 'credentials'), '# kept\n[other]\nregion = eu-west-1\n', { mode: 0o600 });
      for (const d of ['pki', 'etc', 'aws-once', 'aws-run']) {
        execFileSync('chown', ['-R', `${UID}:${UID}`, join(dir, d)]);
        chmodSync(join(dir, d), 0o700);
      }
      chownSync(dir, 0, 0);
      volumes = (aws) => ['-v', `${dir}/pki:/pki:ro`, '-v', `${dir}/etc:/etc/rolesanywhere-agent:ro`, '-v', `${dir}/${aws}:/var/run/aws`];
    });
    after(async () => {
      await w?.cleanup();
    });

    it('`once` in a read-only container, as uid 1000, fills the mounted credentials file from the emulator and keeps the other bytes', async () => {
      const r = await podman(['run', '--rm', '--no-healthcheck', '--read-only', '--network', 'host', ...volumes('aws-once'), `${IMAGE}:latest`, 'once', '--config', '/etc/rolesanywhere-agent/agent.yaml']);
      expect(r.code, `once exit code; stderr:\n${tail(r.stderr)}`).to.equal(0);
      const file = join(dir, 'aws-once', 'credentials');
      const text = readFileSync(file, 'utf8');
      expect(text.startsWith('# kept\n[other]\nregion = eu-west-1\n'), `the foreign bytes stay:\n${text}`).to.equal(true);
      const issued = w.emulator.issued.at(-1);
      expect(parse(text)['app']?.['aws_access_key_id'], 'the key the emulator issued').to.equal(issued?.accessKeyId);
      const st = statSync(file);
      expect({ uid: st.uid, mode: (st.mode & 0o777).toString(8) }, 'written by the container user, 0600').to.deep.equal({ uid: UID, mode: '600' });
    });

    it('`run` exits 0 within 5 s of SIGTERM, after filling the file', async () => {
      const name = `ra-test-sigterm-${process.pid}`;
      const started = await podman(['run', '-d', '--name', name, '--no-healthcheck', '--read-only', '--network', 'host', ...volumes('aws-run'), `${IMAGE}:latest`]);
      expect(started.code, started.stderr).to.equal(0);
      try {
        const file = join(dir, 'aws-run', 'credentials');
        const filled = () => existsSync(file) && parse(readFileSync(file, 'utf8'))['app']?.['aws_access_key_id'] !== undefined;
        for (let i = 0; i < 120 && !filled(); i++) await new Promise((r) => setTimeout(r, 500));
        expect(filled(), 'the agent in the container filled its credentials file').to.equal(true);
        const sent = Date.now();
        const kill = await podman(['kill', '--signal', 'TERM', name]);
        expect(kill.code, kill.stderr).to.equal(0);
        const waited = await podman(['wait', name]);
        const state = await podman(['inspect', '--format', '{{.State.ExitCode}} {{.State.FinishedAt}}', name]);
        const [code, ...finished] = state.stdout.trim().split(' ');
        const stoppedMs = Date.parse(finished.slice(0, 2).join('T').replace(/(\.\d{3})\d*/, '$1') + 'Z') - sent;
        expect({ waited: waited.stdout.trim(), code }, 'exit code').to.deep.equal({ waited: '0', code: '0' });
        expect(stoppedMs, `stopped ${stoppedMs} ms after SIGTERM (${finished.join(' ')})`).to.be.below(5000);
        const logs = await podman(['logs', name]);
        expect(logs.stderr + logs.stdout).to.match(/"message":"credentials refreshed"/);
      } finally {
        await podman(['rm', '-f', '-t', '0', name]);
      }
    });
  });

  it('packaging/kubernetes/play.sh: the sidecar fills the shared file for the reader and follows a certificate rotation in the Secret directory', async function () {
    this.timeout(10 * 60_000);
    const r = await runScript(join(ROOT, 'packaging', 'kubernetes', 'play.sh'), [], { ...env, TIMEOUT: '120' }, { timeoutMs: 10 * 60_000 });
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('play.sh:'));
    expect(r.code, `play.sh exit code; its output ends with:\n${tail(lines.join('\n'))}`).to.equal(0);
    expect(lines.some((l) => /the reader sees profile default \(key ending \w{4}\)/.test(l)), 'the reader saw the profile').to.equal(true);
    expect(lines.some((l) => /after the rotation the agent signed with certificate 1002 and the reader sees a new key/.test(l)), 'the rotation reached the reader').to.equal(true);
    expect(lines.at(-1)).to.equal('play.sh: OK');
    const left = await podman(['ps', '-a', '--format', '{{.Names}}']);
    expect(left.stdout.split('\n').filter((n) => n.startsWith('rolesanywhere-play-')), 'play.sh tore everything down').to.deep.equal([]);
  });
});
