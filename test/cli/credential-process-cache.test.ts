/**
 * `credential-process --cache`: every rule of the shared cache against the strict emulator, counting
 * CreateSession calls where they arrive. In-process calls for the rules; the built CLI as separate
 * processes for the one that is about processes (parallel calls share one CreateSession).
 */
import { expect } from 'chai';
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentialProcessCommand } from '../../src/cli/credential-process.js';
import { EXIT } from '../../src/cli/io.js';
import { cacheDigest, defaultCacheDir, readEntry, writeEntry } from '../../src/credential-cache/cache.js';
import { systemClock, type Clock } from '../../src/time/clock.js';
import { captureIO } from '../helpers/io.js';
import { issue, writePair } from '../helpers/pki.js';
import { makeTempDir } from '../helpers/tmp.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';
import { ensureBuilt, MAIN, runChild } from './built-cli.js';

const NOBODY = 65534;

describe('credential-process --cache', function () {
  this.timeout(180_000);
  let w: World;
  let tmp: { dir: string; cleanup: () => void };
  let cache: string;

  before(async () => {
    w = await makeWorld();
  });
  after(async () => w?.cleanup());
  beforeEach(() => {
    tmp = makeTempDir('ra-cache-');
    cache = join(tmp.dir, 'cache');
  });
  afterEach(() => {
    w.emulator.faults.reset();
    tmp.cleanup();
  });

  const base = (o: { role?: string; certificate?: string; privateKey?: string } = {}) => [
    '--certificate', o.certificate ?? w.ecFiles.certificate,
    '--private-key', o.privateKey ?? w.ecFiles.privateKey,
    '--trust-anchor-arn', TRUST_ANCHOR_ARN,
    '--profile-arn', PROFILE_ARN,
    '--role-arn', o.role ?? roleArn('app'),
    '--endpoint', w.emulator.httpsUrl!,
    '--ca-bundle', w.caBundle,
  ];

  async function run(argv: string[], o: { env?: NodeJS.ProcessEnv; clock?: Clock } = {}) {
    const io = captureIO(o.env ?? {}, o.clock ?? systemClock);
    const before = w.emulator.requests.length;
    const code = await credentialProcessCommand(argv, io);
    const out = io.out();
    return { code, out, err: io.err(), calls: w.emulator.requests.length - before, json: code === 0 ? (JSON.parse(out) as Record<string, string>) : undefined };
  }

  const entries = () => readdirSync(cache).filter((n) => n.endsWith('.json'));

  it('answers a second call with the same inputs from the cache: one CreateSession, the same credentials', async () => {
    const first = await run([...base(), '--cache', cache]);
    expect(first.code, `first call: ${first.err}`).to.equal(EXIT.OK);
    expect(first.calls, 'CreateSession calls of the first call').to.equal(1);
    const second = await run([...base(), '--cache', cache]);
    expect(second.code, `second call: ${second.err}`).to.equal(EXIT.OK);
    expect(second.calls, 'CreateSession calls of the second call').to.equal(0);
    expect(second.out, 'the cached answer').to.equal(first.out);
    expect(second.err, 'stderr of a hit').to.equal('');
  });

  it('keeps entries 0600 in a 0700 directory, named by a digest that holds no input or secret', async () => {
    const r = await run([...base(), '--cache', cache]);
    expect(r.code, r.err).to.equal(EXIT.OK);
    expect(statSync(cache).mode & 0o777, 'cache directory mode').to.equal(0o700);
    const names = readdirSync(cache);
    expect(names, 'files left in the cache (no temp file, no lock)').to.have.length(1);
    expect(names[0], 'entry name').to.match(/^[0-9a-f]{64}\.json$/);
    expect(statSync(join(cache, names[0]!)).mode & 0o777, 'entry mode').to.equal(0o600);
    const text = readFileSync(join(cache, names[0]!), 'utf8');
    for (const input of [TRUST_ANCHOR_ARN, roleArn('app'), w.ecFiles.certificate, w.ecFiles.privateKey]) {
      expect(text.includes(input), `entry mentions input ${input}`).to.equal(false);
    }
  });

  it('makes one CreateSession for 8 parallel calls of the built CLI (counted at the emulator)', async () => {
    ensureBuilt();
    // A slow service keeps every call's miss inside the first call's CreateSession.
    w.emulator.faults.latency(1500);
    const before = w.emulator.requests.length;
    // A generous timeout: eight node start-ups at once on a busy 2-core machine.
    const env = { PATH: process.env['PATH'], HOME: tmp.dir };
    const results = await Promise.all(Array.from({ length: 8 }, () => runChild(process.execPath, [MAIN, 'credential-process', ...base(), '--cache', cache], env, { timeoutMs: 120_000 })));
    for (const [i, r] of results.entries()) expect(r.code, `call ${i}: ${r.stderr}`).to.equal(0);
    expect(w.emulator.requests.length - before, 'CreateSession calls for 8 parallel calls').to.equal(1);
    const keys = new Set(results.map((r) => (JSON.parse(r.stdout) as { AccessKeyId: string }).AccessKeyId));
    expect(keys.size, 'distinct access keys among the 8 answers').to.equal(1);
  });

  it('never answers a replaced certificate from the cache', async () => {
    const dir = join(tmp.dir, 'pki');
    mkdirSync(dir);
    const old = writePair(dir, 'host', w.ec.directLeaf);
    const a = await run([...base({ certificate: old.certificate, privateKey: old.privateKey }), '--cache', cache]);
    expect(a.code, a.err).to.equal(EXIT.OK);
    // Renewed in place: same paths, same key, new certificate.
    const renewed = await issue({ name: 'renewed.example.test', kind: 'ec', issuer: w.ec.root, keys: w.ec.directLeaf.keys });
    writeFileSync(old.certificate, renewed.certPem);
    const b = await run([...base({ certificate: old.certificate, privateKey: old.privateKey }), '--cache', cache]);
    expect(b.code, b.err).to.equal(EXIT.OK);
    expect(b.calls, 'CreateSession calls after the certificate was replaced').to.equal(1);
    expect(b.json!['AccessKeyId'], 'new credentials').not.to.equal(a.json!['AccessKeyId']);
    const sent = w.emulator.requests.at(-1)!.serial;
    expect(sent, 'serial of the certificate the last request carried').to.equal(BigInt(`0x${renewed.nodeCert.serialNumber}`).toString());
  });

  it('keeps one entry per set of inputs: another role is another entry and another call', async () => {
    await run([...base(), '--cache', cache]);
    const other = await run([...base({ role: roleArn('backup') }), '--cache', cache]);
    expect(other.calls, 'CreateSession calls for another role').to.equal(1);
    const withDuration = await run([...base(), '--session-duration', '1800', '--cache', cache]);
    expect(withDuration.calls, 'CreateSession calls for another duration').to.equal(1);
    expect(entries(), 'entries').to.have.length(3);
    expect((await run([...base({ role: roleArn('backup') }), '--cache', cache])).calls, 'the second role again').to.equal(0);
  });

  it('ignores a corrupt entry and replaces it', async () => {
    await run([...base(), '--cache', cache]);
    const [name] = entries();
    for (const junk of ['{not json', '{"version":1}', JSON.stringify({ version: 1, digest: 'someone else', credentials: {} }), '']) {
      writeFileSync(join(cache, name!), junk, { mode: 0o600 });
      const r = await run([...base(), '--cache', cache]);
      expect(r.code, `${JSON.stringify(junk)}: ${r.err}`).to.equal(EXIT.OK);
      expect(r.calls, `CreateSession calls with entry ${JSON.stringify(junk)}`).to.equal(1);
      const again = await run([...base(), '--cache', cache]);
      expect(again.calls, `calls after ${JSON.stringify(junk)} was replaced`).to.equal(0);
    }
  });

  it('never trusts an entry readable by others, owned by another user, or linked elsewhere', async () => {
    const first = await run([...base(), '--cache', cache]);
    const [name] = entries();
    const path = join(cache, name!);
    const good = readFileSync(path);

    chmodSync(path, 0o644);
    expect((await run([...base(), '--cache', cache])).calls, 'calls with a 0644 entry').to.equal(1);
    expect(statSync(path).mode & 0o777, 'the replaced entry mode').to.equal(0o600);

    if (process.getuid!() === 0) {
      chownSync(path, NOBODY, NOBODY);
      expect((await run([...base(), '--cache', cache])).calls, "calls with another user's entry").to.equal(1);
      expect(statSync(path).uid, 'owner of the replaced entry').to.equal(0);
    } else {
      // Not root: a file of another user cannot be made here; the owner check runs in the root CI.
      expect(statSync(path).uid, 'entry owner').to.equal(process.getuid!());
    }

    const elsewhere = join(tmp.dir, 'planted.json');
    writeFileSync(elsewhere, good, { mode: 0o600 });
    rmSync(path);
    symlinkSync(elsewhere, path);
    const r = await run([...base(), '--cache', cache]);
    expect(r.calls, 'calls with a symlinked entry').to.equal(1);
    expect(lstatSync(path).isFile(), 'the link was replaced by a file').to.equal(true);
    expect(readFileSync(elsewhere).equals(good), 'the link target is untouched').to.equal(true);
    expect(first.code).to.equal(EXIT.OK);
  });

  it('never serves an expired or expiring entry; --cache-min-remaining sets the margin', async () => {
    const digest = cacheDigest({ trustAnchorArn: TRUST_ANCHOR_ARN, profileArn: PROFILE_ARN, roleArn: roleArn('app'), durationSeconds: 3600, certificate: w.ecFiles.certificate, privateKey: w.ecFiles.privateKey, endpoint: w.emulator.httpsUrl, caBundle: w.caBundle, env: {} });
    mkdirSync(cache, { mode: 0o700 });
    const plant = (msFromNow: number) =>
      writeEntry(cache, digest, { accessKeyId: 'ASIAPLANTEDPLANTED00', secretAccessKey: 'planted-secret', sessionToken: 'planted-token', expiration: new Date(Date.now() + msFromNow) });
    const cases: [string, number, string[], number][] = [
      ['6 min left, default margin (5m)', 6 * 60_000, [], 0],
      ['4 min left, default margin', 4 * 60_000, [], 1],
      ['10 min left, margin 15m', 10 * 60_000, ['--cache-min-remaining', '15m'], 1],
      ['20 min left, margin 900 (seconds)', 20 * 60_000, ['--cache-min-remaining', '900'], 0],
      ['expired 1 s ago, margin 0', -1000, ['--cache-min-remaining', '0'], 1],
    ];
    for (const [what, left, flags, calls] of cases) {
      plant(left);
      const r = await run([...base(), '--cache', cache, ...flags]);
      expect(r.code, `${what}: ${r.err}`).to.equal(EXIT.OK);
      expect(r.calls, `CreateSession calls, ${what}`).to.equal(calls);
      expect(r.json!['AccessKeyId'] === 'ASIAPLANTEDPLANTED00', `served the planted entry, ${what}`).to.equal(calls === 0);
    }
  });

  it('tightens a cache directory of ours with loose permissions to 0700 and says so', async () => {
    mkdirSync(cache, { mode: 0o755 });
    chmodSync(cache, 0o777);
    const r = await run([...base(), '--cache', cache]);
    expect(r.code, r.err).to.equal(EXIT.OK);
    expect(statSync(cache).mode & 0o777, 'mode after the call').to.equal(0o700);
    expect(r.err, 'the warning').to.contain(`${cache} was mode 0777; set it to 0700`);
  });

  it('refuses a cache directory of another user (exit 2, no request)', async () => {
    mkdirSync(cache, { mode: 0o700 });
    if (process.getuid!() === 0) chownSync(cache, NOBODY, NOBODY);
    else {
      // Not root: a directory of another user that exists everywhere stands in.
      cache = '/';
    }
    const r = await run([...base(), '--cache', cache]);
    expect(r.code, `exit code (stderr: ${r.err})`).to.equal(EXIT.BAD_INPUT);
    expect(r.calls, 'CreateSession calls').to.equal(0);
    expect(r.err, 'stderr').to.contain(`credential cache directory ${cache} belongs to uid`).and.to.contain('a directory of your own');
  });

  it('uses $XDG_CACHE_HOME/rolesanywhere-agent for a bare --cache, else ~/.cache/rolesanywhere-agent', async () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' }), 'with XDG_CACHE_HOME').to.equal('/x/cache/rolesanywhere-agent');
    expect(defaultCacheDir({ XDG_CACHE_HOME: 'relative', HOME: '/home/u' }), 'a relative XDG_CACHE_HOME is ignored').to.equal('/home/u/.cache/rolesanywhere-agent');
    expect(defaultCacheDir({ HOME: '/home/u' }), 'without').to.equal('/home/u/.cache/rolesanywhere-agent');
    const xdg = join(tmp.dir, 'xdg');
    const r = await run(['--cache', ...base()], { env: { XDG_CACHE_HOME: xdg } });
    expect(r.code, r.err).to.equal(EXIT.OK);
    expect(readdirSync(join(xdg, 'rolesanywhere-agent')).filter((n) => n.endsWith('.json')), 'entries in the default directory').to.have.length(1);
    const last = await run([...base(), '--cache'], { env: { XDG_CACHE_HOME: xdg } });
    expect(last.calls, 'a bare --cache as the last flag reads the same entry').to.equal(0);
  });

  it('leaves secrets out of the digest: a PIN in a pkcs11: key URI does not change the entry name', () => {
    const k = { trustAnchorArn: TRUST_ANCHOR_ARN, profileArn: PROFILE_ARN, roleArn: roleArn('app'), durationSeconds: 3600, certificate: w.ecFiles.certificate, env: {} };
    const a = cacheDigest({ ...k, privateKey: 'pkcs11:token=t;object=k?pin-value=1234' });
    const b = cacheDigest({ ...k, privateKey: 'pkcs11:token=t;object=k?pin-value=9999' });
    const c = cacheDigest({ ...k, privateKey: 'pkcs11:token=t;object=other' });
    expect(a, 'digest with PIN 1234 vs 9999').to.equal(b);
    expect(a, 'digest of another key object').not.to.equal(c);
    expect(readEntry(tmp.dir, a, Date.now(), 0).kind, 'an absent entry').to.equal('miss');
  });

  it('refuses --cache with a certificate on a PKCS#11 token, and a bad --cache-min-remaining (exit 2, no request)', async () => {
    const p11 = await run(['--certificate', 'pkcs11:token=t;object=c', '--private-key', 'pkcs11:token=t;object=k', ...base().slice(4), '--cache', cache]);
    expect(p11.code, p11.err).to.equal(EXIT.BAD_INPUT);
    expect(p11.err, 'stderr').to.contain('--cache needs the certificate in a file');
    for (const bad of ['soon', '-5', '1h']) {
      const r = await run([...base(), '--cache', cache, '--cache-min-remaining', bad]);
      expect(r.code, `--cache-min-remaining ${bad}: ${r.err}`).to.equal(EXIT.BAD_INPUT);
      expect(r.calls, `calls with --cache-min-remaining ${bad}`).to.equal(0);
    }
  });
});
