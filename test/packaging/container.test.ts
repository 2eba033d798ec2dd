/**
 * The container image and the Kubernetes sidecar example, checked statically (podman.test.ts builds
 * and runs them): the Dockerfile's stages, user and command, its build context, and
 * the manifests parsed as YAML with their cross-references followed — the Secret cert-manager
 * writes is the one mounted, the schedule in the ConfigMap validates and names files inside the
 * mounts, the app reads the very file the agent writes, on a shared memory-backed emptyDir.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseSchedule } from '../../src/config/index.js';
import { ROOT } from './helpers.js';

const DOCKERFILE = join(ROOT, 'packaging', 'container', 'Dockerfile');
const MANIFEST = join(ROOT, 'packaging', 'kubernetes', 'sidecar.yaml');

interface Instruction {
  op: string;
  args: string;
}
function dockerfile(): Instruction[] {
  const text = readFileSync(DOCKERFILE, 'utf8').replace(/\\\n/g, ' ');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\S+)\s+(.*)$/.exec(l)!;
      return { op: m[1]!.toUpperCase(), args: m[2]! };
    });
}

/** Kubernetes objects are walked loosely: a missing field fails the assertion that reads it. */
type Any = any;

describe('packaging/container/Dockerfile', () => {
  const ins = dockerfile();
  const froms = ins.filter((i) => i.op === 'FROM');
  const finalStage = ins.slice(ins.lastIndexOf(froms[froms.length - 1]!));

  it('is multi-stage on Node 20 slim (BASE_IMAGE, default node:20-bookworm-slim), building in the first stage only', () => {
    expect(froms.length).to.equal(2);
    const arg = ins.find((i) => i.op === 'ARG' && i.args.startsWith('BASE_IMAGE='));
    expect(ins.indexOf(arg!), 'ARG BASE_IMAGE before the first FROM').to.be.within(0, ins.indexOf(froms[0]!));
    expect(arg!.args).to.equal('BASE_IMAGE=node:20-bookworm-slim');
    for (const f of froms) expect(f.args).to.match(/^\$\{BASE_IMAGE\}( AS build)?$/);
    expect(froms[0]!.args).to.match(/ AS build$/i);
    const finalRuns = finalStage.filter((i) => i.op === 'RUN');
    expect(finalRuns, 'no build step (npm, apt, compiler) in the final stage').to.deep.equal([]);
  });

  it('runs as a numeric non-root user and starts the agent on the schedule path the example mounts', () => {
    const user = finalStage.filter((i) => i.op === 'USER').pop();
    expect(user?.args).to.match(/^[1-9]\d*(:\d+)?$/);
    const entry = JSON.parse(finalStage.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
    const cmd = JSON.parse(finalStage.find((i) => i.op === 'CMD')!.args) as string[];
    expect(entry).to.deep.equal(['node', '/opt/rolesanywhere-agent/dist/src/main.js']);
    expect(cmd).to.deep.equal(['run', '--config', '/etc/rolesanywhere-agent/agent.yaml', '--log-format', 'json']);
    const workdir = finalStage.find((i) => i.op === 'WORKDIR')!.args;
    const copied = finalStage.filter((i) => i.op === 'COPY').map((i) => posix.join(workdir, i.args.split(/\s+/).pop()!));
    expect(copied, 'main.js is copied where ENTRYPOINT runs it').to.include('/opt/rolesanywhere-agent/dist/src');
  });

  it('copies only files that exist and that its .dockerignore lets through', () => {
    const ignore = readFileSync(`${DOCKERFILE}.dockerignore`, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignore[0], 'everything excluded first').to.equal('*');
    const allowed = ignore.slice(1).map((l) => l.replace(/^!/, '').replace(/\/$/, ''));
    const sources = ins.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources).to.not.be.empty;
    for (const s of sources) {
      const clean = s.replace(/\/$/, '');
      expect(existsSync(join(ROOT, clean)), `${s} exists in the repository`).to.equal(true);
      expect(allowed, `${s} is let through by the .dockerignore`).to.include(clean);
    }
  });
});

describe('packaging/kubernetes/sidecar.yaml', () => {
  const docs = parseAllDocuments(readFileSync(MANIFEST, 'utf8'));
  const objects = docs.map((d) => d.toJS() as Any).filter(Boolean);
  const byKind = (k: string) => objects.filter((o) => o.kind === k);
  const cert = byKind('Certificate')[0];
  const configMap = byKind('ConfigMap')[0];
  const deployment = byKind('Deployment')[0];
  const pod = deployment?.spec?.template?.spec;
  const sidecar = pod?.initContainers?.find((c: Any) => c.name === 'rolesanywhere-agent');
  const app = pod?.containers?.[0];
  const volume = (name: string) => pod.volumes.find((v: Any) => v.name === name);
  const mountOf = (container: Any, name: string) => container.volumeMounts.find((m: Any) => m.name === name);

  it('parses as YAML: a cert-manager Certificate, a ConfigMap and a Deployment', () => {
    for (const d of docs) expect(d.errors.map(String), 'YAML errors').to.deep.equal([]);
    expect(objects.map((o) => `${o.apiVersion} ${o.kind}`)).to.deep.equal(['cert-manager.io/v1 Certificate', 'v1 ConfigMap', 'apps/v1 Deployment']);
  });

  it('the certificate is one Roles Anywhere accepts and rotates its key', () => {
    expect(cert.spec.usages).to.include('digital signature');
    expect(cert.spec.privateKey.rotationPolicy).to.equal('Always');
    expect(cert.spec.isCA ?? false).to.equal(false);
  });

  it('the agent runs as a native sidecar with the image command, and waits in its startup probe until every profile is fresh', () => {
    expect(sidecar, 'initContainer rolesanywhere-agent').to.be.an('object');
    expect(sidecar.restartPolicy).to.equal('Always');
    expect(sidecar.args).to.deep.equal(['run', '--config', '/etc/rolesanywhere-agent/agent.yaml', '--log-format', 'json']);
    expect(sidecar.startupProbe.exec.command.slice(2)).to.deep.equal(['status', '--config', '/etc/rolesanywhere-agent/agent.yaml']);
    expect(pod.terminationGracePeriodSeconds).to.be.greaterThan(5);
  });

  it('mounts the Secret cert-manager writes, and the schedule names the certificate and key inside it', () => {
    const secretVolume = pod.volumes.find((v: Any) => v.secret);
    expect(secretVolume.secret.secretName).to.equal(cert.spec.secretName);
    const mount = mountOf(sidecar, secretVolume.name);
    expect(mount.readOnly).to.equal(true);
    const schedule = parseSchedule(configMap.data['agent.yaml'], 'ConfigMap agent.yaml', { env: {}, home: '/home/node' });
    for (const p of schedule.profiles) {
      expect(p.certificate).to.equal(`${mount.mountPath}/tls.crt`);
      expect(p.privateKey).to.equal(`${mount.mountPath}/tls.key`);
    }
  });

  it('mounts the ConfigMap where the agent reads its schedule', () => {
    const cmVolume = pod.volumes.find((v: Any) => v.configMap);
    expect(cmVolume.configMap.name).to.equal(configMap.metadata.name);
    expect(`${mountOf(sidecar, cmVolume.name).mountPath}/agent.yaml`).to.equal(sidecar.args[2]);
    expect(Object.keys(configMap.data)).to.deep.equal(['agent.yaml']);
  });

  it('the app reads, read-only, the very file the agent writes, on a shared memory-backed emptyDir', () => {
    const schedule = parseSchedule(configMap.data['agent.yaml'], 'ConfigMap agent.yaml', { env: {}, home: '/home/node' });
    const env = Object.fromEntries(app.env.map((e: Any) => [e.name, e.value]));
    expect(env['AWS_SHARED_CREDENTIALS_FILE']).to.equal(schedule.credentialsFile);
    expect(schedule.profiles.map((p) => p.name)).to.include(env['AWS_PROFILE']);
    const shared = volume('aws-credentials');
    expect(shared.emptyDir.medium).to.equal('Memory');
    const agentMount = mountOf(sidecar, 'aws-credentials');
    const appMount = mountOf(app, 'aws-credentials');
    expect(agentMount.mountPath).to.equal(dirname(schedule.credentialsFile));
    expect(agentMount.readOnly ?? false).to.equal(false);
    expect(appMount.mountPath).to.equal(dirname(schedule.credentialsFile));
    expect(appMount.readOnly).to.equal(true);
  });

  it('runs the pod as the image user (the file is 0600: the app must share the UID), never as root, with a locked-down sidecar', () => {
    const user = dockerfile().filter((i) => i.op === 'USER').pop()!.args.split(':')[0];
    expect(pod.securityContext.runAsNonRoot).to.equal(true);
    expect(String(pod.securityContext.runAsUser)).to.equal(user);
    expect(app.securityContext?.runAsUser ?? pod.securityContext.runAsUser).to.equal(pod.securityContext.runAsUser);
    expect(sidecar.securityContext).to.deep.include({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(sidecar.securityContext.capabilities.drop).to.deep.equal(['ALL']);
    const secretVolume = pod.volumes.find((v: Any) => v.secret);
    expect(secretVolume.secret.defaultMode & 0o007, 'key not world-readable').to.equal(0);
    expect(pod.securityContext.fsGroup, 'the key is readable through fsGroup').to.equal(pod.securityContext.runAsGroup);
  });
});
