/**
 * The agent as a real process: `node dist/src/main.js run` against emulators in this process, over
 * loopback HTTPS. Waits poll the credentials file, the emulator's request log or the agent's JSON
 * log lines with deadlines; the only long wait is the 30 s a timer-driven refresh really needs (the
 * refresh floor after issue), and it runs in the background while the other tests go on.
 */
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Emulator } from '../../src/emulator/index.js';
import { statePathFor, type StateFile } from '../../src/agent/state-file.js';
import { writePair, writePrivate, type WrittenPair } from '../helpers/pki.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';
import { makeTempDir } from '../helpers/tmp.js';
import {
  allOutput,
  cleanEnv,
  ensureBuilt,
  killAll,
  readCredentials,
  runCli,
  spawnAgent,
  tryReadCredentials,
  waitFor,
  type AgentProcess,
} from './fixtures/agent-process.js';
import { freshPair, serialOf, sideEmulator, writeEncryptedPair, type SideEmulator } from './fixtures/emulators.js';
import { scheduleDoc, writeSchedule, type ProfileSpec } from './fixtures/schedule.js';

const ROLE_NAMES = Array.from({ length: 48 }, (_, i) => `role-${String(i).padStart(2, '0')}`);
const KEY_PASSWORD = 'correct horse battery staple 7f3a';
const PASSWORD_ENV = 'AGENT_TEST_KEY_PASSWORD';

describe('the agent as a real process (run) against the emulator', function () {
  this.timeout(60_000);
  let w: World;
  const emulators: Emulator[] = [];
  const sides: SideEmulator[] = [];
  const dirs: Array<() => void> = [];
  let keys: Record<'rsaChain' | 'ecDirect' | 'rsaDirect' | 'ecChain' | 'rsaEncrypted', WrittenPair>;
  let env: NodeJS.ProcessEnv;

  /** A fresh directory for one agent: its schedule and its credentials file. */
  const place = () => {
    const t = makeTempDir('ra-proc-');
    dirs.push(t.cleanup);
    return { dir: t.dir, credentials: join(t.dir, 'aws', 'credentials'), schedule: join(t.dir, 'schedule.yaml') };
  };
  const start = (schedule: string) => spawnAgent(['run', '--config', schedule, '--log-format', 'json', '--log-level', 'debug'], env);
  const requestsFor = (e: Emulator, role: string) => e.requests.filter((r) => r.roleArn === roleArn(role));
  const issuedFor = (e: Emulator, role: string) => e.issued.filter((i) => i.roleArn === roleArn(role));
  const sideRoles = (prefix: string, n = 4) => Array.from({ length: n }, (_, i) => roleArn(`${prefix}-${i}`));
  const side = async (name: string, roles: string[]) => {
    const s = await sideEmulator(w, name, roles);
    sides.push(s);
    emulators.push(s.emulator);
    return s;
  };
  const onSide = (s: SideEmulator, p: ProfileSpec): ProfileSpec => ({ ...p, extra: { ...p.extra, endpoint: s.url, ca_bundle: s.caBundle } });
  /** SIGTERM, then: exit 0 within 5 s, nothing but the file and the state left, and no warning or error but `expected`. */
  const stopAndCheck = async (agent: AgentProcess, credentials: string, expected: string[] = []) => {
    const sent = Date.now();
    agent.kill('SIGTERM');
    const { code, signal } = await agent.exited;
    const took = Date.now() - sent;
    expect({ code, signal }, `exit of the agent after SIGTERM; stderr tail:\n${agent.stderr().slice(-2000)}`).to.deep.equal({ code: 0, signal: null });
    expect(took, 'ms from SIGTERM to exit').to.be.below(5_000);
    const left = readdirSync(join(credentials, '..')).sort();
    expect(left, 'files left beside the credentials file').to.deep.equal(['credentials', 'credentials.agent-state.json']);
    const complaints = [...new Set(agent.logs().filter((r) => r.level === 'warn' || r.level === 'error').map((r) => r.message))];
    expect(complaints.filter((m) => !expected.includes(m)), 'unexpected warnings and errors').to.deep.equal([]);
  };

  // The timer-driven fault scenario (see the last test of this block) starts here so that its 30 s
  // refresh floor overlaps the other tests.
  let faultAgent: AgentProcess;
  let faultCreds: string;
  const faultSides: Record<'unavailable' | 'throttled' | 'dropped', SideEmulator> = {} as never;
  const faultHistory = new Map<string, string[]>();
  let faultWatch: NodeJS.Timeout | undefined;
  let faultInjectedAt = 0;

  before(async function () {
    this.timeout(60_000);
    ensureBuilt();
    w = await makeWorld({ roles: ROLE_NAMES.map(roleArn) });
    emulators.push(w.emulator);
    env = cleanEnv(w.dir, { [PASSWORD_ENV]: KEY_PASSWORD });
    const encLeaf = await freshPair(w, w.dir, 'enc-src');
    keys = {
      rsaChain: w.rsaFiles,
      ecDirect: w.ecFiles,
      rsaDirect: writePair(w.dir, 'rsa-direct', w.rsa.directLeaf),
      ecChain: writePair(w.dir, 'ec-chain', w.ec.leaf, [w.ec.intermediate]),
      rsaEncrypted: writeEncryptedPair(w.dir, 'rsa-enc', encLeaf.leaf, KEY_PASSWORD, [w.rsa.intermediate]),
    };

    for (const kind of ['unavailable', 'throttled', 'dropped'] as const) {
      faultSides[kind] = await side(`fault-${kind}`, [roleArn(`fault-${kind}`)]);
      // 45 s credentials: the refresh falls due at the 30 s floor after issue.
      faultSides[kind].emulator.faults.shortLived(45);
    }
    const p = place();
    faultCreds = p.credentials;
    const profiles = Object.fromEntries(
      (['unavailable', 'throttled', 'dropped'] as const).map((kind) => [`fault-${kind}`, onSide(faultSides[kind], { role: `fault-${kind}`, key: keys.ecDirect })]),
    );
    faultAgent = start(writeSchedule(p.schedule, scheduleDoc(w, p.credentials, profiles)));
    await waitFor(() => tryReadCredentials(faultCreds)?.size === 3, 'the three fault profiles to be written');
    faultInjectedAt = Date.now();
    faultSides.unavailable.emulator.faults.failNext(6, 503);
    faultSides.throttled.emulator.faults.failNext(6, 429, 'ThrottlingException', 'Rate exceeded');
    faultSides.dropped.emulator.faults.dropNext(6);
    // Watch what readers of the file see while the service misbehaves.
    faultWatch = setInterval(() => {
      let creds;
      try {
        creds = readCredentials(faultCreds);
      } catch (e) {
        faultHistory.set('unreadable', [...(faultHistory.get('unreadable') ?? []), String(e)]);
        return;
      }
      for (const name of Object.keys(profiles)) {
        const id = creds.get(name)?.accessKeyId ?? 'MISSING';
        const seen = faultHistory.get(name) ?? [];
        if (seen.at(-1) !== id) faultHistory.set(name, [...seen, id]);
      }
    }, 20);
  });

  after(async () => {
    if (faultWatch) clearInterval(faultWatch);
    killAll();
    await Promise.all(sides.map((s) => s.emulator.stop()));
    await w?.cleanup();
    dirs.forEach((d) => d());
  });

  it('writes 20 profiles (RSA and EC, chains, an encrypted key, keys shared by several profiles) exactly as the emulator issued them', async () => {
    const p = place();
    const order = ['rsaChain', 'ecDirect', 'rsaDirect', 'ecChain', 'rsaEncrypted'] as const;
    const profiles: Record<string, ProfileSpec> = {};
    for (let i = 0; i < 20; i++) {
      const which = order[i % order.length]!;
      profiles[`many-${i}`] = { role: ROLE_NAMES[i]!, key: keys[which], ...(which === 'rsaEncrypted' ? { extra: { private_key_password_env: PASSWORD_ENV } } : {}) };
    }
    const agent = start(writeSchedule(p.schedule, scheduleDoc(w, p.credentials, profiles)));
    const creds = await waitFor(() => {
      const c = tryReadCredentials(p.credentials);
      return c && c.size === 20 ? c : undefined;
    }, 'all 20 profiles in the file');
    const serials: Record<(typeof order)[number], string> = {
      rsaChain: serialOf(w.rsa.leaf),
      ecDirect: serialOf(w.ec.directLeaf),
      rsaDirect: serialOf(w.rsa.directLeaf),
      ecChain: serialOf(w.ec.leaf),
      rsaEncrypted: readSerial(keys.rsaEncrypted),
    };
    for (let i = 0; i < 20; i++) {
      const name = `many-${i}`;
      const issued = issuedFor(w.emulator, ROLE_NAMES[i]!);
      expect(issued.length, `credentials issued for ${name}'s role`).to.equal(1);
      const got = creds.get(name)!;
      expect(got, name).to.deep.equal({
        accessKeyId: issued[0]!.accessKeyId,
        secretAccessKey: issued[0]!.secretAccessKey,
        sessionToken: issued[0]!.sessionToken,
        expires: issued[0]!.expiration,
      });
      expect(issued[0]!.serial, `certificate serial the emulator saw for ${name}`).to.equal(serials[order[i % order.length]!]);
    }
    expect(
      ROLE_NAMES.slice(0, 20).flatMap((r) => requestsFor(w.emulator, r)).filter((r) => !r.ok),
      'rejected requests',
    ).to.deep.equal([]);
    await stopAndCheck(agent, p.credentials);
  });

  it('fills every profile while the service throttles, slowing down instead of giving up', async () => {
    const roles = sideRoles('thr', 10);
    const s = await side('throttling', roles);
    s.emulator.faults.throttle(4);
    const p = place();
    const profiles = Object.fromEntries(roles.map((r, i) => [`thr-${i}`, onSide(s, { role: `thr-${i}`, key: i % 2 ? keys.ecDirect : keys.rsaChain })]));
    const agent = start(writeSchedule(p.schedule, scheduleDoc(w, p.credentials, profiles)));
    const creds = await waitFor(() => {
      const c = tryReadCredentials(p.credentials);
      return c && c.size === 10 ? c : undefined;
    }, 'all 10 throttled profiles in the file', { timeoutMs: 20_000 });
    const throttled = s.emulator.requests.filter((r) => r.status === 429);
    expect(throttled.length, 'requests the emulator throttled').to.be.greaterThan(0);
    for (let i = 0; i < 10; i++) {
      const issued = issuedFor(s.emulator, `thr-${i}`);
      expect(issued.length, `credentials issued for thr-${i}`).to.equal(1);
      expect(creds.get(`thr-${i}`)!.accessKeyId).to.equal(issued[0]!.accessKeyId);
    }
    expect(s.emulator.requests.filter((r) => r.status !== 201 && r.status !== 429), 'other failures').to.deep.equal([]);
    await stopAndCheck(agent, p.credentials, ['refresh failed; the profile has no credentials yet']);
  });

  it('picks up a certificate and key renamed over the old ones within 2 s (the emulator sees the new serial)', async () => {
    const p = place();
    mkdirSync(join(p.dir, 'pki'));
    const first = await freshPair(w, join(p.dir, 'pki'), 'host');
    const agent = start(writeSchedule(p.schedule, scheduleDoc(w, p.credentials, { rotating: { role: 'role-20', key: first.files } })));
    const before = await waitFor(() => tryReadCredentials(p.credentials)?.get('rotating'), 'the first credentials');
    await agent.waitForLog((r) => r.message === 'agent started');
    expect(issuedFor(w.emulator, 'role-20').map((i) => i.serial)).to.deep.equal([serialOf(first.leaf)]);

    const next = await freshPair(w, p.dir, 'staged');
    const t0 = Date.now();
    renameSync(next.files.certificate, first.files.certificate);
    renameSync(next.files.privateKey, first.files.privateKey);
    const after = await waitFor(() => {
      const c = tryReadCredentials(p.credentials)?.get('rotating');
      return c && c.accessKeyId !== before.accessKeyId ? c : undefined;
    }, 'credentials made with the rotated certificate', { timeoutMs: 5_000 });
    const took = Date.now() - t0;
    const issued = issuedFor(w.emulator, 'role-20');
    expect(issued.map((i) => i.serial), 'serials the emulator issued to, in order').to.deep.equal([serialOf(first.leaf), serialOf(next.leaf)]);
    expect(after.accessKeyId).to.equal(issued[1]!.accessKeyId);
    expect(took, 'ms from the rename to new credentials in the file').to.be.below(2_000);
    const rotated = agent.logs().find((r) => r.message === 'rotated certificate picked up');
    expect(String(rotated?.['new_serial']).toUpperCase(), 'serial in the rotation log line').to.equal(next.leaf.nodeCert.serialNumber.toUpperCase());
    await stopAndCheck(agent, p.credentials, ['certificate or key changed but the new pair cannot be used; keeping the previous one']);
  });

  it('keeps the old pair while only the certificate has been replaced, and switches once the key follows', async () => {
    const p = place();
    mkdirSync(join(p.dir, 'pki'));
    const first = await freshPair(w, join(p.dir, 'pki'), 'host', 'ec');
    const agent = start(writeSchedule(p.schedule, scheduleDoc(w, p.credentials, { half: { role: 'role-21', key: first.files } })));
    await waitFor(() => tryReadCredentials(p.credentials)?.get('half'), 'the first credentials');
    await agent.waitForLog((r) => r.message === 'agent started');
    const next = await freshPair(w, p.dir, 'staged', 'ec');
    const mark = agent.logs().length;
    renameSync(next.files.certificate, first.files.certificate);
    const warned = await agent.waitForLog((r) => r.message === 'certificate or key changed but the new pair cannot be used; keeping the previous one', { from: mark });
    expect(String(warned['error']), 'why the new pair was refused').to.include(`private key ${first.files.privateKey} does not match certificate ${first.files.certificate}`);
    expect(issuedFor(w.emulator, 'role-21').map((i) => i.serial), 'no request with a mismatched pair').to.deep.equal([serialOf(first.leaf)]);
    const t0 = Date.now();
    renameSync(next.files.privateKey, first.files.privateKey);
    await waitFor(() => issuedFor(w.emulator, 'role-21').length === 2, 'a request with the new pair', { timeoutMs: 5_000 });
    expect(Date.now() - t0, 'ms from the key rename to the new request').to.be.below(2_000);
    expect(issuedFor(w.emulator, 'role-21').map((i) => i.serial)).to.deep.equal([serialOf(first.leaf), serialOf(next.leaf)]);
    expect(w.emulator.requests.filter((r) => r.roleArn === roleArn('role-21') && !r.ok), 'rejected requests').to.deep.equal([]);
    await stopAndCheck(agent, p.credentials, ['certificate or key changed but the new pair cannot be used; keeping the previous one']);
  });

  it('follows a Kubernetes-style ..data symlink swap within 2 s', async () => {
    const p = place();
    const secret = join(p.dir, 'secret');
    mkdirSync(secret);
    const first = await freshPair(w, p.dir, 'k8s-a');
    const second = await freshPair(w, p.dir, 'k8s-b');
    const populate = (stamp: string, files: WrittenPair) => {
      const d = join(secret, stamp);
      mkdirSync(d);
      writePrivate(join(d, 'tls.crt'), readFileSync(files.certificate, 'utf8'));
      writePrivate(join(d, 'tls.key'), readFileSync(files.privateKey, 'utf8'));
      writePrivate(join(d, 'ca.crt'), readFileSync(files.intermediates!, 'utf8'));
    };
    populate('..2026_01_01_00_00_00.000000001', first.files);
    symlinkSync('..2026_01_01_00_00_00.000000001', join(secret, '..data'));
    for (const f of ['tls.crt', 'tls.key', 'ca.crt']) symlinkSync(`..data/${f}`, join(secret, f));
    const key = { certificate: join(secret, 'tls.crt'), privateKey: join(secret, 'tls.key'), intermediates: join(secret, 'ca.crt') };
    const agent = start(writeSchedule(p.schedule, scheduleDoc(w, p.credentials, { k8s: { role: 'role-22', key } })));
    const before = await waitFor(() => tryReadCredentials(p.credentials)?.get('k8s'), 'the first credentials');
    await agent.waitForLog((r) => r.message === 'agent started');

    // What the kubelet does: a new timestamped dir, a temp symlink to it renamed over ..data, the old dir removed.
    populate('..2026_01_01_00_05_00.000000002', second.files);
    const t0 = Date.now();
    symlinkSync('..2026_01_01_00_05_00.000000002', join(secret, '..data_tmp'));
    renameSync(join(secret, '..data_tmp'), join(secret, '..data'));
    rmSync(join(secret, '..2026_01_01_00_00_00.000000001'), { recursive: true });
    const after = await waitFor(() => {
      const c = tryReadCredentials(p.credentials)?.get('k8s');
      return c && c.accessKeyId !== before.accessKeyId ? c : undefined;
    }, 'credentials made with the swapped certificate', { timeoutMs: 5_000 });
    expect(Date.now() - t0, 'ms from the swap to new credentials in the file').to.be.below(2_000);
    const issued = issuedFor(w.emulator, 'role-22');
    expect(issued.map((i) => i.serial)).to.deep.equal([serialOf(first.leaf), serialOf(second.leaf)]);
    expect(after.accessKeyId).to.equal(issued[1]!.accessKeyId);
    await stopAndCheck(agent, p.credentials);
  });

  it('refuses to start when HTTPS_PROXY is not a proxy URL: exit 2, the variable named, its password not shown, nothing written', async () => {
    const p = place();
    writeSchedule(p.schedule, scheduleDoc(w, p.credentials, { app: { role: 'role-1', key: w.rsaFiles } }));
    const calls = w.emulator.requests.length;
    const r = await runCli(['run', '--config', p.schedule, '--log-format', 'json'], { ...env, HTTPS_PROXY: 'http://alice:s3cret@' }, 10_000);
    const errors = r.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: string; message: string; error?: string })
      .filter((l) => l.level === 'error');
    expect(errors.map((l) => [l.message, l.error])).to.deep.equal([
      ['agent could not start', 'HTTPS_PROXY is not a proxy URL: "http://***@" — set it to http://HOST:PORT (user and password, if any, before an @), or unset it to connect directly'],
    ]);
    expect(r.stderr + r.stdout, 'output').not.to.contain('s3cret');
    expect(r.code, 'exit code').to.equal(2);
    expect(w.emulator.requests.length, 'CreateSession calls').to.equal(calls);
    expect(readdirSync(p.dir), 'files made').to.deep.equal(['schedule.yaml']);
  });

  it('refuses to start on a schedule that fails validation: exit 2 with every issue, no credentials written', async () => {
    const p = place();
    writeFileSync(p.schedule, `credentials_file: ${p.credentials}\nprofiles:\n  app:\n    role_arn: arn:aws:iam::1:role\n    certificate: /nonexistent/host.pem\n    private_key: /nonexistent/host.key\n    trust_anchor_arn: ${TRUST_ANCHOR_ARN}\n    profile_arn: ${PROFILE_ARN}\n`);
    const r = await runCli(['run', '--config', p.schedule, '--log-format', 'json'], env, 10_000);
    expect(r.stderr.split('\n'), 'stderr').to.deep.equal([
      `rolesanywhere-agent run: schedule ${p.schedule} has 1 problem:`,
      '  profiles.app.role_arn (line 4:15): "arn:aws:iam::1:role" is not a valid role_arn: not an ARN (expected arn:aws:iam::111122223333:role/<name>)',
      '',
    ]);
    expect(r.code, 'exit code').to.equal(2);
    expect(readdirSync(p.dir), 'files made').to.deep.equal(['schedule.yaml']);
  });

  describe('reload', () => {
    it('applies an edited schedule on SIGHUP: adds, removes and rebuilds profiles, and leaves unchanged ones alone', async () => {
      const failing = await side('reload-failing', [roleArn('reload-gone')]);
      failing.emulator.faults.failNext(1_000_000, 503);
      const p = place();
      const base: Record<string, ProfileSpec> = {
        keep: { role: 'role-23', key: keys.rsaChain },
        change: { role: 'role-24', key: keys.ecDirect },
        gone: onSide(failing, { role: 'reload-gone', key: keys.ecDirect }),
      };
      const agent = start(writeSchedule(p.schedule, scheduleDoc(w, p.credentials, base)));
      const first = await waitFor(() => {
        const c = tryReadCredentials(p.credentials);
        return c?.has('keep') && c.has('change') ? c : undefined;
      }, 'keep and change written');
      // The removed profile must have a retry due soon, so that "its timer stopped" can be seen.
      const goneRetry = await waitFor(() => {
        const s = readStateFile(p.credentials)?.profiles.find((x) => x.name === 'gone');
        return s?.lastError && s.nextRefresh && !s.inFlight ? Date.parse(s.nextRefresh) : undefined;
      }, 'a scheduled retry of the failing profile');

      const mark = agent.logs().length;
      writeSchedule(
        p.schedule,
        scheduleDoc(w, p.credentials, {
          keep: base.keep!,
          change: { ...base.change!, extra: { role_session_name: 'changed-on-reload' } },
          added: { role: 'role-25', key: keys.rsaDirect },
        }),
      );
      agent.kill('SIGHUP');
      const reloaded = await agent.waitForLog((r) => r.message === 'schedule reloaded' && r['reason'] === 'SIGHUP', { from: mark });
      const goneRequestsAtReload = failing.emulator.requests.length;
      const applied = agent.logs().slice(mark).filter((r) => r.message === 'schedule reloaded');
      const union = (k: string) => [...new Set(applied.flatMap((r) => r[k] as string[]))].sort();
      expect({ added: union('added'), changed: union('changed'), removed: union('removed') }, 'what the reloads applied').to.deep.equal({
        added: ['added'],
        changed: ['change'],
        removed: ['gone'],
      });
      expect(reloaded['unchanged'], 'unchanged profiles on the SIGHUP reload').to.include('keep');

      const now = await waitFor(() => {
        const c = tryReadCredentials(p.credentials);
        return c?.has('added') && c.get('change')!.accessKeyId !== first.get('change')!.accessKeyId ? c : undefined;
      }, 'the added profile written and the changed one refreshed');
      expect(now.get('keep'), 'the unchanged profile keeps its credentials').to.deep.equal(first.get('keep'));
      expect(issuedFor(w.emulator, 'role-23').length, 'CreateSession calls for the unchanged profile').to.equal(1);
      expect(issuedFor(w.emulator, 'role-24').map((i) => i.roleSessionName).at(-1), 'session name of the rebuilt profile').to.equal('changed-on-reload');
      expect(now.get('added')!.accessKeyId).to.equal(issuedFor(w.emulator, 'role-25')[0]!.accessKeyId);

      // The removed profile's retry was due at goneRetry: past it (and a margin), nothing more arrived.
      await waitFor(() => Date.now() > goneRetry + 1_000, 'the removed profile\'s retry time to pass', { timeoutMs: 15_000, intervalMs: 100 });
      expect(failing.emulator.requests.length, 'requests for the removed profile after the reload').to.equal(goneRequestsAtReload);
      await stopAndCheck(agent, p.credentials, ['refresh failed; the profile has no credentials yet']);
    });

    it('a reload to a role the service refuses removes the old role\'s keys from the file, leaves every other byte, and /healthz and status say why', async () => {
      const p = place();
      const base: Record<string, ProfileSpec> = { app: { role: 'role-40', key: keys.ecChain }, other: { role: 'role-41', key: keys.ecChain } };
      const agent = start(writeSchedule(p.schedule, scheduleDoc(w, p.credentials, base, { http: { listen: '127.0.0.1:0' } })));
      await waitFor(() => {
        const c = tryReadCredentials(p.credentials);
        return c?.has('app') && c.has('other') ? c : undefined;
      }, 'both profiles written');
      const listening = await agent.waitForLog((r) => r.message === 'observability listener started');
      // A foreign section and comment the agent must leave byte for byte.
      const foreign = '# written by hand\n[static]\nregion = eu-west-1\n';
      writeFileSync(p.credentials, foreign + readFileSync(p.credentials, 'utf8'));
      const mark = agent.logs().length;
      writeSchedule(p.schedule, scheduleDoc(w, p.credentials, { ...base, app: { role: 'not-granted-40', key: keys.ecChain } }, { http: { listen: '127.0.0.1:0' } }));
      agent.kill('SIGHUP');
      const removed = await agent.waitForLog((r) => r.message === 'removed the credentials of the previous identity from the file', { from: mark });
      expect(removed['profile'], 'profile named in the log').to.equal('app');
      const after = readFileSync(p.credentials, 'utf8');
      const withoutOther = after.replace(/\[other\]\n(?:[a-z_]+ = \S+\n){4}/, '');
      expect(withoutOther, 'the file without [other]: only the foreign lines').to.equal(foreign);
      expect(tryReadCredentials(p.credentials)?.has('other'), '[other] still there').to.equal(true);
      const url = listening['url'] as string;
      const health = await fetch(`${url}/healthz`);
      const body = (await health.json()) as { failing: Array<{ profile: string; reason: string }> };
      expect(health.status, '/healthz status').to.equal(503);
      expect(body.failing.map((f) => f.profile), 'failing profiles').to.deep.equal(['app']);
      expect(body.failing[0]!.reason, 'why').to.include('removed from the file').and.include(`role_arn changed from ${roleArn('role-40')} to ${roleArn('not-granted-40')}`);
      // status reads the agent's state file, which the agent writes at most once a second.
      await waitFor(() => {
        try {
          const st = JSON.parse(readFileSync(statePathFor(p.credentials), 'utf8')) as StateFile;
          return st.profiles.find((x) => x.name === 'app')?.credentialsRemoved ? true : undefined;
        } catch {
          return undefined;
        }
      }, 'the state file records the removal');
      const text = await runCli(['status', '--config', p.schedule], env);
      expect(text.stdout.split('\n').find((l) => l.startsWith('app\t')), 'status line of app').to.match(/^app\tNO CREDENTIALS \(removed \S+: the schedule's role_arn changed from /);
      await stopAndCheck(agent, p.credentials, ['removed the credentials of the previous identity from the file', 'refresh failed; the profile has no credentials yet']);
    });

    it('applies a plain edit of the schedule file without a signal', async () => {
      const p = place();
      const base: Record<string, ProfileSpec> = { one: { role: 'role-26', key: keys.ecChain } };
      const agent = start(writeSchedule(p.schedule, scheduleDoc(w, p.credentials, base)));
      const first = await waitFor(() => tryReadCredentials(p.credentials)?.get('one'), 'the first profile');
      await agent.waitForLog((r) => r.message === 'agent started');
      const mark = agent.logs().length;
      writeSchedule(p.schedule, scheduleDoc(w, p.credentials, { ...base, two: { role: 'role-27', key: keys.ecChain } }));
      const reloaded = await agent.waitForLog((r) => r.message === 'schedule reloaded', { from: mark });
      expect({ reason: reloaded['reason'], added: reloaded['added'], unchanged: reloaded['unchanged'] }).to.deep.equal({
        reason: 'schedule file changed',
        added: ['two'],
        unchanged: ['one'],
      });
      const now = await waitFor(() => {
        const c = tryReadCredentials(p.credentials);
        return c?.has('two') ? c : undefined;
      }, 'the added profile in the file');
      expect(now.get('one')).to.deep.equal(first);
      expect(issuedFor(w.emulator, 'role-26').length, 'calls for the unchanged profile').to.equal(1);
      await stopAndCheck(agent, p.credentials);
    });

    it('rejects a schedule that fails validation, logs every issue, and keeps the old one running', async () => {
      const p = place();
      const good = scheduleDoc(w, p.credentials, { steady: { role: 'role-28', key: keys.rsaChain } });
      const agent = start(writeSchedule(p.schedule, good));
      const first = await waitFor(() => tryReadCredentials(p.credentials)?.get('steady'), 'the first profile');
      await agent.waitForLog((r) => r.message === 'agent started');
      const mark = agent.logs().length;
      const bad = [
        `credentials_file: ${p.credentials}`,
        'defaults:',
        `  trust_anchor_arn: ${TRUST_ANCHOR_ARN}`,
        `  profile_arn: ${PROFILE_ARN}`,
        `  endpoint: ${w.emulator.httpsUrl}`,
        `  ca_bundle: ${w.caBundle}`,
        'profiles:',
        '  steady:',
        `    role_arn: ${roleArn('role-28')}`,
        `    certificate: ${keys.rsaChain.certificate}`,
        `    private_key: ${keys.rsaChain.privateKey}`,
        `    intermediates: ${keys.rsaChain.intermediates}`,
        '    regoin: eu-west-1',
        '  extra:',
        '    role_arn: arn:aws:iam::1:role',
        `    certificate: ${keys.rsaChain.certificate}`,
        `    private_key: ${keys.rsaChain.privateKey}`,
        '',
      ].join('\n');
      writeFileSync(p.schedule, bad);
      agent.kill('SIGHUP');
      const rejected = await agent.waitForLog((r) => r.message === 'new schedule rejected; the previous one keeps running', { from: mark });
      expect(rejected['level']).to.equal('error');
      expect(String(rejected['errors']).split('\n'), 'the logged issues').to.deep.equal([
        'profiles.steady.regoin (line 13:5): unknown key "regoin" — did you mean "region"?',
        'profiles.extra.role_arn (line 15:15): "arn:aws:iam::1:role" is not a valid role_arn: not an ARN (expected arn:aws:iam::111122223333:role/<name>)',
      ]);
      expect(agent.child.exitCode, 'the agent is still running').to.equal(null);
      expect(agent.logs().slice(mark).filter((r) => r.message === 'schedule reloaded'), 'reloads applied').to.deep.equal([]);
      expect(tryReadCredentials(p.credentials)?.get('steady')).to.deep.equal(first);

      // Fixing the file is picked up without a signal: the watcher survived the bad edit.
      const mark2 = agent.logs().length;
      writeSchedule(p.schedule, scheduleDoc(w, p.credentials, { steady: { role: 'role-28', key: keys.rsaChain }, later: { role: 'role-29', key: keys.rsaChain } }));
      await agent.waitForLog((r) => r.message === 'schedule reloaded' && (r['added'] as string[]).includes('later'), { from: mark2 });
      await waitFor(() => tryReadCredentials(p.credentials)?.get('later'), 'the profile added by the fixed schedule');
      expect(issuedFor(w.emulator, 'role-28').length, 'calls for the steady profile').to.equal(1);
      await stopAndCheck(agent, p.credentials, ['new schedule rejected; the previous one keeps running']);
    });
  });

  it('stops on SIGTERM within 5 s with a call in flight, exit code 0, leaving no temp or lock file', async () => {
    const slow = await side('slow', [roleArn('slow')]);
    slow.emulator.faults.latency(20_000);
    const p = place();
    const agent = start(
      writeSchedule(p.schedule, scheduleDoc(w, p.credentials, { quick: { role: 'role-30', key: keys.ecDirect }, stuck: onSide(slow, { role: 'slow', key: keys.ecDirect }) })),
    );
    await agent.waitForLog((r) => r.message === 'credentials refreshed' && r['profile'] === 'quick');
    await agent.waitForLog((r) => r.message === 'refreshing' && r['profile'] === 'stuck');
    await agent.waitForLog((r) => r.message === 'agent started');
    await stopAndCheck(agent, p.credentials);
    const messages = agent.logs().map((r) => r.message);
    expect(messages.slice(-2), 'last log lines').to.deep.equal(['stopping', 'stopped']);
    const state = readStateFile(p.credentials)!;
    expect(state.profiles.map((s) => [s.name, s.state]), 'final state file').to.deep.equal([
      ['quick', 'stopped'],
      ['stuck', 'stopped'],
    ]);
  });

  describe('faults', () => {
    it('survives 503s, throttling replies and dropped connections at a timer-driven refresh, keeping the last good credentials until it recovers', async function () {
      this.timeout(60_000);
      const kinds = ['unavailable', 'throttled', 'dropped'] as const;
      // Recovery: 4 failed attempts in the first call, a retry 1–2 s later, 2 more failures, then success.
      await waitFor(() => kinds.every((k) => issuedFor(faultSides[k].emulator, `fault-${k}`).length === 2), 'every fault profile to recover', {
        timeoutMs: Math.max(5_000, 50_000 - (Date.now() - faultInjectedAt)),
        intervalMs: 100,
      });
      await waitFor(() => kinds.every((k) => faultHistory.get(`fault-${k}`)?.length === 2), 'the recovered credentials in the file', { timeoutMs: 3_000 });
      clearInterval(faultWatch);
      expect(faultHistory.get('unreadable'), 'moments the file could not be read strictly').to.equal(undefined);
      const expectedStatus = { unavailable: 503, throttled: 429, dropped: 0 };
      const expectedCode = { unavailable: 'SERVICE_UNAVAILABLE', throttled: 'THROTTLED', dropped: 'NETWORK' };
      for (const k of kinds) {
        const e = faultSides[k].emulator;
        const issued = issuedFor(e, `fault-${k}`);
        expect(faultHistory.get(`fault-${k}`), `access keys readers saw for fault-${k}, in order`).to.deep.equal(issued.map((i) => i.accessKeyId));
        expect(e.requests.map((r) => r.status), `statuses of fault-${k}'s requests`).to.deep.equal([201, ...Array(6).fill(expectedStatus[k]), 201]);
        const refreshAt = e.requests[1]!.time.getTime() - e.requests[0]!.time.getTime();
        expect(refreshAt, 'ms from issue to the timer-driven refresh').to.be.within(29_000, 33_000);
        const warn = faultAgent.logs().find((r) => r.message === 'refresh failed; keeping the current credentials and retrying' && r['profile'] === `fault-${k}`);
        expect(warn?.['code'], `code logged for fault-${k}`).to.equal(expectedCode[k]);
        expect(warn?.['current_credentials_expire'], 'the expiry of the credentials kept').to.equal(new Date(issued[0]!.expiration).toISOString());
        expect(faultAgent.logs().some((r) => r.message === 'profile recovered' && r['profile'] === `fault-${k}`), `fault-${k} logged its recovery`).to.equal(true);
      }
      expect(faultAgent.child.exitCode, 'the agent is still running').to.equal(null);
      await stopAndCheck(faultAgent, faultCreds, ['refresh failed; keeping the current credentials and retrying']);
    });
  });

  describe('output', () => {
    it('never prints a secret access key, session token or key password', () => {
      const secrets = emulators.flatMap((e) => e.issued.flatMap((i) => [i.secretAccessKey, i.sessionToken]));
      // At least the fault agent's first credentials (the other tests add many more).
      expect(secrets.length, 'secrets issued in this file').to.be.at.least(6);
      secrets.push(KEY_PASSWORD);
      const output = allOutput.join('\n');
      expect(output.length, 'bytes of output collected').to.be.greaterThan(1_000);
      const leaked = secrets.filter((s) => output.includes(s) || output.includes(s.slice(0, 24)));
      expect(leaked.length, 'secrets found in the agents\' output').to.equal(0);
    });
  });
});

function readStateFile(credentials: string): StateFile | undefined {
  try {
    return JSON.parse(readFileSync(statePathFor(credentials), 'utf8')) as StateFile;
  } catch {
    return undefined;
  }
}

function readSerial(files: WrittenPair): string {
  return BigInt('0x' + new X509Certificate(readFileSync(files.certificate)).serialNumber).toString();
}
