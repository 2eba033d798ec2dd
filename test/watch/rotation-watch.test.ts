/**
 * The parts of rotation watching below the agent, on real files in a fresh directory: symlink
 * chain resolution, the fingerprint's content decision, and RotationWatch with a recording
 * directory watcher (events are injected by hand, so each decision is seen alone).
 */
import { expect } from 'chai';
import { chmodSync, mkdirSync, renameSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../src/time/clock.js';
import { systemScheduler } from '../../src/time/scheduler.js';
import { takeFingerprint } from '../../src/watch/fingerprint.js';
import { resolveChain } from '../../src/watch/resolve.js';
import { RotationWatch, type ApplyOutcome, type DirWatcherFactory, type RotationTrigger } from '../../src/watch/rotation.js';
import { makeTempDir } from '../helpers/tmp.js';
import { waitFor } from '../agent/fixtures/agent-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('watch: symlink chains, fingerprints and the rotation watch', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = makeTempDir('ra-watch-')));
  afterEach(() => cleanup());

  describe('resolveChain', () => {
    it('records each link of a Kubernetes volume and watches the volume and the timestamped directory', async () => {
      mkdirSync(join(dir, '..2026_v0'));
      writeFileSync(join(dir, '..2026_v0', 'tls.crt'), 'x');
      symlinkSync('..2026_v0', join(dir, '..data'));
      symlinkSync('..data/tls.crt', join(dir, 'tls.crt'));
      const r = await resolveChain(join(dir, 'tls.crt'));
      expect(r, 'resolution of tls.crt').to.deep.equal({
        path: join(dir, 'tls.crt'),
        target: join(dir, '..2026_v0', 'tls.crt'),
        links: [
          { link: join(dir, 'tls.crt'), to: '..data/tls.crt' },
          { link: join(dir, '..data'), to: '..2026_v0' },
        ],
        dirs: [dir, join(dir, '..2026_v0')],
      });
    });

    it('follows relative links with .. (certbot) and a directory link two levels up', async () => {
      mkdirSync(join(dir, 'archive', 'x'), { recursive: true });
      mkdirSync(join(dir, 'live', 'x'), { recursive: true });
      writeFileSync(join(dir, 'archive', 'x', 'cert1.pem'), 'x');
      symlinkSync('../../archive/x/cert1.pem', join(dir, 'live', 'x', 'cert.pem'));
      const certbot = await resolveChain(join(dir, 'live', 'x', 'cert.pem'));
      expect({ target: certbot.target, dirs: certbot.dirs }, 'certbot').to.deep.equal({ target: join(dir, 'archive', 'x', 'cert1.pem'), dirs: [join(dir, 'live', 'x'), join(dir, 'archive', 'x')] });

      mkdirSync(join(dir, 'v1', 'mid'), { recursive: true });
      writeFileSync(join(dir, 'v1', 'mid', 'host.crt'), 'x');
      symlinkSync('v1', join(dir, 'current'));
      const up = await resolveChain(join(dir, 'current', 'mid', 'host.crt'));
      expect({ target: up.target, dirs: up.dirs }, 'two levels up').to.deep.equal({ target: join(dir, 'v1', 'mid', 'host.crt'), dirs: [dir, join(dir, 'v1', 'mid')] });
    });

    it('names the first missing component and watches the nearest existing directory; a loop stops with ELOOP', async () => {
      const missing = await resolveChain(join(dir, 'gone', 'host.crt'));
      expect({ missing: missing.missing, dirs: missing.dirs }, 'missing').to.deep.equal({ missing: join(dir, 'gone'), dirs: [dir] });
      symlinkSync('loop', join(dir, 'loop'));
      expect((await resolveChain(join(dir, 'loop'))).error, 'a self-link').to.equal('ELOOP');
    });
  });

  describe('takeFingerprint', () => {
    it('keeps the content key across chmod, touch and a rename-over with the same bytes, and changes it with the bytes', async () => {
      const f = join(dir, 'host.crt');
      writeFileSync(f, 'one');
      const a = await takeFingerprint([f]);
      chmodSync(f, 0o400);
      utimesSync(f, new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
      const b = await takeFingerprint([f], a);
      expect(b.key, 'metadata moved').to.not.equal(a.key);
      expect(b.contentKey, 'same bytes after chmod and touch').to.equal(a.contentKey);
      writeFileSync(join(dir, 'staged'), 'one');
      renameSync(join(dir, 'staged'), f);
      expect((await takeFingerprint([f], b)).contentKey, 'same bytes renamed over').to.equal(a.contentKey);
      chmodSync(f, 0o600);
      writeFileSync(f, 'two');
      expect((await takeFingerprint([f], b)).contentKey, 'new bytes').to.not.equal(a.contentKey);
    });
  });

  describe('RotationWatch', () => {
    /** A directory watcher that records what it is asked to watch and lets the test fire events. */
    function recordingWatcher() {
      const state = { dirs: new Set<string>(), fire: (_p: string) => {} };
      const factory: DirWatcherFactory = (dirs, onEvent) => {
        dirs.forEach((d) => state.dirs.add(d));
        state.fire = onEvent;
        return { ready: Promise.resolve(), add: (d) => d.forEach((x) => state.dirs.add(x)), unwatch: (d) => d.forEach((x) => state.dirs.delete(x)), close: async () => {} };
      };
      return { state, factory };
    }
    const make = (paths: string[], apply: (t: RotationTrigger) => Promise<ApplyOutcome>, extra: { intervalMs?: number; stuck?: (e: string) => void; watcher?: DirWatcherFactory } = {}) =>
      new RotationWatch({
        paths,
        clock: systemClock,
        scheduler: systemScheduler,
        intervalMs: extra.intervalMs ?? 0,
        apply,
        ...(extra.stuck && { stuck: extra.stuck }),
        ...(extra.watcher && { watcher: extra.watcher }),
        debounceMs: 5,
        settleMs: 20,
        settleWindowMs: 1_000,
        graceMs: 150,
      });

    it('applies once per change of bytes, not for chmod or an unrelated file, and follows a parent symlink swap', async () => {
      for (const v of ['v1', 'v2']) {
        mkdirSync(join(dir, v));
        writeFileSync(join(dir, v, 'host.crt'), v);
      }
      symlinkSync('v1', join(dir, 'current'));
      const { state, factory } = recordingWatcher();
      const applied: RotationTrigger[] = [];
      const w = make([join(dir, 'current', 'host.crt')], async (t) => (applied.push(t), { ok: true }), { watcher: factory });
      await w.ready;
      expect([...state.dirs].sort(), 'watched at start').to.deep.equal([dir, join(dir, 'v1')].sort());

      chmodSync(join(dir, 'v1', 'host.crt'), 0o400);
      state.fire(join(dir, 'v1', 'host.crt'));
      writeFileSync(join(dir, 'unrelated'), 'x');
      state.fire(join(dir, 'unrelated'));
      await sleep(100);
      expect(applied, 'applies after chmod and an unrelated file').to.deep.equal([]);

      symlinkSync('v2', join(dir, 'current.tmp'));
      renameSync(join(dir, 'current.tmp'), join(dir, 'current'));
      state.fire(join(dir, 'current'));
      await waitFor(() => applied.length > 0, 'an apply after the swap');
      expect(applied, 'applies after the swap').to.deep.equal(['event']);
      expect([...state.dirs].sort(), 'watched after the swap').to.deep.equal([dir, join(dir, 'v2')].sort());
      await w.close();
    });

    it('re-checks refused files until the pair agrees, without an event, and reports stuck once when it never does', async () => {
      const cert = join(dir, 'host.crt');
      const key = join(dir, 'host.key');
      writeFileSync(cert, 'c0');
      writeFileSync(key, 'k0');
      const { state, factory } = recordingWatcher();
      const applied: string[] = [];
      const stuck: string[] = [];
      const agree = () => (applied.push(`${cert}`), { ok: true } as const);
      let keyArrived = false;
      const w = make([cert, key], async () => (keyArrived ? agree() : (applied.push('refused'), { ok: false, error: 'key does not match' })), {
        watcher: factory,
        stuck: (e) => stuck.push(e),
      });
      await w.ready;
      writeFileSync(cert, 'c1');
      state.fire(cert);
      await waitFor(() => applied.length > 0, 'the first apply');
      expect(applied, 'first look: refused').to.deep.equal(['refused']);
      // The key arrives and its event is lost: the settle re-check finds it.
      keyArrived = true;
      writeFileSync(key, 'k1');
      await waitFor(() => applied.length > 1, 'a second apply', { timeoutMs: 5_000 });
      expect(applied, 'after the key arrived, no event').to.deep.equal(['refused', cert]);
      expect(stuck, 'stuck reports').to.deep.equal([]);

      keyArrived = false;
      writeFileSync(cert, 'c2');
      state.fire(cert);
      await waitFor(() => stuck.length > 0, 'a stuck report', { timeoutMs: 5_000 });
      await sleep(100);
      expect(applied.filter((a) => a === 'refused').length, 'refused bytes are not applied again while unchanged').to.equal(2);
      expect(stuck, 'stuck reported once, after the grace').to.deep.equal(['key does not match']);
      await w.close();
    });

    it('polls on its interval with trigger poll, and stops when the interval is set to 0', async () => {
      const f = join(dir, 'host.crt');
      writeFileSync(f, 'a');
      const applied: RotationTrigger[] = [];
      const { factory } = recordingWatcher();
      const w = make([f], async (t) => (applied.push(t), { ok: true }), { intervalMs: 50, watcher: factory });
      await w.ready;
      writeFileSync(f, 'b');
      await waitFor(() => applied.length > 0, 'a polled apply');
      expect(applied, 'after a change with no event').to.deep.equal(['poll']);
      w.setInterval(0);
      writeFileSync(f, 'c');
      await sleep(200);
      expect(applied, 'with the interval off').to.deep.equal(['poll']);
      await w.close();
    });
  });
});
