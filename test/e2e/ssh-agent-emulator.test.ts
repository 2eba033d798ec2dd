/**
 * Keys held by OpenSSH's real ssh-agent (added with the real ssh-add) signing CreateSession requests
 * that the strict emulator verifies: RSA (rsa-sha2-256) and EC P-256 (r,s turned into DER), through
 * credential-process and through once; no matching identity, a locked agent and a vanished agent.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentialProcessCommand } from '../../src/cli/credential-process.js';
import { EXIT } from '../../src/cli/io.js';
import { listCertsCommand } from '../../src/cli/list-certs.js';
import { onceCommand } from '../../src/cli/once.js';
import { readProfiles } from '../../src/credentials-file/index.js';
import { serialDecimal } from '../../src/keys/signer.js';
import { scheduleDoc, writeSchedule } from '../agent/fixtures/schedule.js';
import { captureIO } from '../helpers/io.js';
import { SshAgent } from '../helpers/ssh-agent.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';

describe('ssh-agent keys against the emulator (OpenSSH ssh-agent)', function () {
  this.timeout(30_000);
  let w: World;
  let agent: SshAgent;
  before(async () => {
    w = await makeWorld();
    agent = await SshAgent.start(w.dir);
    agent.add(w.rsaFiles.privateKey!);
    agent.add(w.ecFiles.privateKey!);
  });
  after(async () => {
    await agent.stop();
    await w.cleanup();
  });

  const sessionFlags = (role = 'app') => ['--trust-anchor-arn', TRUST_ANCHOR_ARN, '--profile-arn', PROFILE_ARN, '--role-arn', roleArn(role), '--endpoint', w.emulator.httpsUrl!, '--ca-bundle', w.caBundle];

  async function credentialProcess(keyFlags: string[], env: NodeJS.ProcessEnv = {}) {
    const before = w.emulator.requests.length;
    const io = captureIO(env);
    const code = await credentialProcessCommand([...keyFlags, ...sessionFlags()], io);
    return { code, out: io.out(), err: io.err(), requests: w.emulator.requests.slice(before) };
  }

  it('credential-process signs with the RSA key in the agent named by its socket path; the emulator accepts it', async () => {
    const r = await credentialProcess(['--certificate', w.rsaFiles.certificate, '--intermediates', w.rsaFiles.intermediates!, '--private-key', `ssh-agent:${agent.socket}`]);
    expect(r.code, r.err).to.equal(0);
    expect(r.requests.map((q) => q.ok), 'emulator verdicts').to.deep.equal([true]);
    expect(r.requests[0]!.serial).to.equal(serialDecimal(w.rsa.leaf.nodeCert));
    expect(JSON.parse(r.out).AccessKeyId).to.equal(w.emulator.issued.at(-1)!.accessKeyId);
  });

  it('credential-process signs with the EC P-256 key in the agent found through SSH_AUTH_SOCK (ssh-agent:)', async () => {
    const r = await credentialProcess(['--certificate', w.ecFiles.certificate, '--private-key', 'ssh-agent:'], { SSH_AUTH_SOCK: agent.socket });
    expect(r.code, r.err).to.equal(0);
    expect(r.requests.map((q) => q.ok), 'emulator verdicts').to.deep.equal([true]);
    expect(r.requests[0]!.serial).to.equal(serialDecimal(w.ec.directLeaf.nodeCert));
  });

  it('once fills an RSA and an EC profile from one agent (private_key: ssh-agent:/path in the schedule)', async () => {
    const file = join(w.dir, 'credentials-agent');
    const viaAgent = `ssh-agent:${agent.socket}`;
    const schedule = writeSchedule(
      join(w.dir, 'agent.yaml'),
      scheduleDoc(w, file, {
        'agent-rsa': { role: 'app', key: { ...w.rsaFiles, privateKey: viaAgent } },
        'agent-ec': { role: 'backup', key: { certificate: w.ecFiles.certificate, privateKey: viaAgent } },
      }),
    );
    const io = captureIO();
    const code = await onceCommand(['--config', schedule], io);
    expect(code, io.err() + io.out()).to.equal(0);
    const profiles = readProfiles(readFileSync(file, 'utf8'));
    const byRole = (r: string) => w.emulator.issued.filter((i) => i.roleArn === roleArn(r)).at(-1)!;
    expect(profiles.get('agent-rsa')!.get('aws_access_key_id')).to.equal(byRole('app').accessKeyId);
    expect(profiles.get('agent-ec')!.get('aws_access_key_id')).to.equal(byRole('backup').accessKeyId);
  });

  it('no identity matches the certificate: exit 2, the socket and the held fingerprints named, no request sent', async () => {
    const other = await SshAgent.start(w.dir, 'other.sock');
    try {
      other.add(w.ecFiles.privateKey!);
      const fingerprint = other.list().split(' ')[1]!;
      expect(fingerprint, 'ssh-add -l fingerprint').to.match(/^SHA256:/);
      const r = await credentialProcess(['--certificate', w.rsaFiles.certificate, '--private-key', `ssh-agent:${other.socket}`]);
      expect(r.code, r.err).to.equal(EXIT.BAD_INPUT);
      expect(r.err).to.contain(other.socket).and.to.contain(fingerprint).and.to.contain(w.rsaFiles.certificate);
      expect(r.requests, 'requests sent').to.have.length(0);
    } finally {
      await other.stop();
    }
  });

  it('a locked agent: exit 5 (retryable), a clear error and no request; unlocked, the same call works', async () => {
    agent.lock();
    try {
      const r = await credentialProcess(['--certificate', w.ecFiles.certificate, '--private-key', `ssh-agent:${agent.socket}`]);
      expect(r.code, r.err).to.equal(EXIT.UNAVAILABLE);
      expect(r.err).to.match(/holds no keys.*locked/).and.to.contain(agent.socket);
      expect(r.requests, 'requests sent').to.have.length(0);
    } finally {
      agent.unlock();
    }
    const again = await credentialProcess(['--certificate', w.ecFiles.certificate, '--private-key', `ssh-agent:${agent.socket}`]);
    expect(again.code, again.err).to.equal(0);
  });

  it('a P-384 key in the agent is refused before any request: the agent would hash it with SHA-384', async () => {
    const key = join(w.dir, 'p384.key.pem');
    const cert = join(w.dir, 'p384.cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=p384', '-days', '1'], { stdio: 'ignore' });
    chmodSync(key, 0o600);
    agent.add(key);
    const r = await credentialProcess(['--certificate', cert, '--private-key', `ssh-agent:${agent.socket}`]);
    expect(r.code, r.err).to.equal(EXIT.BAD_INPUT);
    expect(r.err).to.contain('secp384r1').and.to.contain('SHA-256');
    expect(r.requests, 'requests sent').to.have.length(0);
  });

  it('the agent gone: exit 5 (retryable, names the socket); back with the key, the call works again', async () => {
    const gone = await SshAgent.start(w.dir, 'gone.sock');
    gone.add(w.rsaFiles.privateKey!);
    await gone.stop();
    const flags = ['--certificate', w.rsaFiles.certificate, '--intermediates', w.rsaFiles.intermediates!, '--private-key', `ssh-agent:${gone.socket}`];
    const r = await credentialProcess(flags);
    expect(r.code, r.err).to.equal(EXIT.UNAVAILABLE);
    expect(r.err).to.contain('cannot reach the ssh-agent').and.to.contain(gone.socket);
    expect(r.requests, 'requests sent').to.have.length(0);
    await gone.restart();
    try {
      gone.add(w.rsaFiles.privateKey!);
      const back = await credentialProcess(flags);
      expect(back.code, back.err).to.equal(0);
    } finally {
      await gone.stop();
    }
  });
});

describe('list-certs ssh-agent: shows which agent keys match which certificate files', function () {
  this.timeout(30_000);
  let w: World;
  let agent: SshAgent;
  before(async () => {
    w = await makeWorld();
    agent = await SshAgent.start(w.dir);
    agent.add(w.ecFiles.privateKey!);
  });
  after(async () => {
    await agent.stop();
    await w.cleanup();
  });

  it('names the matching certificate under its key and reports a certificate no key matches', async () => {
    const ecFingerprint = agent.list().split(' ')[1]!;
    const io = captureIO({ SSH_AUTH_SOCK: agent.socket });
    const code = await listCertsCommand(['ssh-agent:', w.ecFiles.certificate, w.rsaFiles.certificate], io);
    expect(code, io.err()).to.equal(0);
    const text = io.out();
    expect(text).to.contain(`ssh-agent ${agent.socket}`);
    expect(text).to.contain(`${ecFingerprint} ecdsa-sha2-nistp256`);
    expect(text).to.contain(`matches ${w.ecFiles.certificate}`);
    expect(text).to.contain(`no key in the agent matches ${w.rsaFiles.certificate}`);
  });

  it('--json gives the same answer as data', async () => {
    const io = captureIO();
    const code = await listCertsCommand(['--json', `ssh-agent:${agent.socket}`, w.ecFiles.certificate, w.rsaFiles.certificate], io);
    expect(code, io.err()).to.equal(0);
    const listing = JSON.parse(io.out());
    expect(listing.identities.map((i: { certificates: string[] }) => i.certificates)).to.deep.equal([[w.ecFiles.certificate]]);
    expect(listing.unmatched).to.deep.equal([w.rsaFiles.certificate]);
  });

  it('an agent that is not there: exit 5 naming the socket', async () => {
    const io = captureIO();
    const missing = join(w.dir, 'no-agent.sock');
    const code = await listCertsCommand([`ssh-agent:${missing}`], io);
    expect(code, io.err()).to.equal(EXIT.UNAVAILABLE);
    expect(io.err()).to.contain(missing);
  });
});
