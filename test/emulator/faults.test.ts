import 'reflect-metadata';
import { expect } from 'chai';
import { performance } from 'node:perf_hooks';
import { ManualClock } from '../../src/time/clock.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { Faults } from '../../src/emulator/faults.js';
import { makePki, type TestPki } from '../helpers/pki.js';
import { PROFILE, TA, baseConfig, hostOf, send, signRequest, type Reply } from './support.js';

describe('emulator faults', () => {
  describe('the fault state machine', () => {
    it('fails exactly the next N, then passes', () => {
      const f = new Faults(new ManualClock(0));
      f.failNext(2, 503);
      const kinds = [f.decide(), f.decide(), f.decide()].map((d) => (d.kind === 'fail' ? d.error.status : d.kind));
      expect(kinds).to.deep.equal([503, 503, 'pass']);
    });

    it('drops before it fails, and counts each separately', () => {
      const f = new Faults(new ManualClock(0));
      f.failNext(1, 500);
      f.dropNext(1);
      const kinds = [f.decide(), f.decide(), f.decide()].map((d) => (d.kind === 'fail' ? d.error.errorType : d.kind));
      expect(kinds).to.deep.equal(['drop', 'InternalServerException', 'pass']);
    });

    it('throttles above the rate within a rolling second of its clock', () => {
      const clock = new ManualClock(10_000);
      const f = new Faults(clock);
      f.throttle(2);
      const at = (): string => {
        const d = f.decide();
        return d.kind === 'fail' ? d.error.errorType : d.kind;
      };
      expect([at(), at(), at()]).to.deep.equal(['pass', 'pass', 'ThrottlingException']);
      clock.advance(999);
      expect(at(), 'still inside the window').to.equal('ThrottlingException');
      clock.advance(1);
      expect([at(), at(), at()], 'a second later the window has room for 2 again').to.deep.equal(['pass', 'pass', 'ThrottlingException']);
    });

    it('refuses nonsense settings', () => {
      const f = new Faults(new ManualClock(0));
      expect(() => f.failNext(-1)).to.throw(RangeError);
      expect(() => f.failNext(1, 200)).to.throw(RangeError);
      expect(() => f.throttle(0)).to.throw(RangeError);
      expect(() => f.latency(-5)).to.throw(RangeError);
      expect(() => f.shortLived(0)).to.throw(RangeError);
    });

    it('reset lifts everything and settings() reports what is in force', () => {
      const f = new Faults(new ManualClock(0), { failNext: { count: 3, status: 503, errorType: 'ServiceUnavailableException' }, latencyMs: 20, shortLivedSeconds: 5 });
      expect(f.settings()).to.deep.equal({ failNext: { count: 3, status: 503, errorType: 'ServiceUnavailableException' }, latencyMs: 20, shortLivedSeconds: 5 });
      f.reset();
      expect(f.settings()).to.deep.equal({});
      expect(f.decide().kind).to.equal('pass');
    });
  });

  describe('over HTTP', () => {
    let pki: TestPki;
    let clock: ManualClock;
    let emu: Emulator;

    before(async () => {
      pki = await makePki('ec');
    });
    beforeEach(async () => {
      clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
      emu = await startEmulator(baseConfig({ [TA]: [pki.root.certPem] }), { clock, httpPort: 0 });
    });
    afterEach(async () => {
      await emu.stop();
    });

    const call = (): Promise<Reply> => send(emu.httpUrl!, signRequest({ host: hostOf(emu.httpUrl!), dateMs: clock.now(), leaf: pki.directLeaf }));
    const statusOf = (r: Reply): string => `${r.status} ${r.headers['x-amzn-errortype'] ?? ''}`.trim();

    it('starts only the HTTP listener when only httpPort is given', () => {
      expect({ http: typeof emu.httpUrl, https: emu.httpsUrl, ca: emu.caPem }).to.deep.equal({ http: 'string', https: undefined, ca: '' });
    });

    it('fails the next 2 requests with 503 ServiceUnavailableException, then succeeds', async () => {
      emu.faults.failNext(2, 503);
      const replies = [await call(), await call(), await call()];
      expect(replies.map(statusOf)).to.deep.equal(['503 ServiceUnavailableException', '503 ServiceUnavailableException', '201']);
      expect(replies[0]!.json).to.have.property('message').that.is.a('string');
      expect(emu.requests.map((r) => r.reason ?? 'ok')).to.deep.equal(['FAULT_INJECTED', 'FAULT_INJECTED', 'ok']);
      const serial = BigInt('0x' + pki.directLeaf.nodeCert.serialNumber).toString();
      expect(emu.requests.map((r) => [r.serial, r.profileArn]), 'faulted requests still record who asked').to.deep.equal([
        [serial, PROFILE],
        [serial, PROFILE],
        [serial, PROFILE],
      ]);
    });

    it('injects any status with its AWS error type (500, 404, or a custom type)', async () => {
      emu.faults.failNext(1, 500);
      expect(statusOf(await call())).to.equal('500 InternalServerException');
      emu.faults.failNext(1, 404);
      expect(statusOf(await call())).to.equal('404 ResourceNotFoundException');
      emu.faults.failNext(1, 400, 'ExpiredTokenException', 'custom');
      const r = await call();
      expect([statusOf(r), r.json.message]).to.deep.equal(['400 ExpiredTokenException', 'custom']);
    });

    it('throttles above the configured rate with 429 ThrottlingException until its clock moves on', async () => {
      emu.faults.throttle(2);
      expect([statusOf(await call()), statusOf(await call()), statusOf(await call())]).to.deep.equal(['201', '201', '429 ThrottlingException']);
      clock.advance(1000);
      expect(statusOf(await call())).to.equal('201');
    });

    it('delays every reply by the configured latency', async () => {
      emu.faults.latency(150);
      const t0 = performance.now();
      const r = await call();
      const elapsed = performance.now() - t0;
      expect(r.status).to.equal(201);
      expect(elapsed, `elapsed ${elapsed.toFixed(0)} ms`).to.be.at.least(145);
      emu.faults.latency(0);
      const t1 = performance.now();
      await call();
      expect(performance.now() - t1, 'latency 0 restores prompt replies').to.be.below(145);
    });

    it('drops the next connection without a reply, then answers again', async () => {
      emu.faults.dropNext(1);
      const err = await call().then(
        () => undefined,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(err?.code, String(err)).to.equal('ECONNRESET');
      expect((await call()).status).to.equal(201);
      expect(emu.requests.map((r) => [r.status, r.reason ?? 'ok'])).to.deep.equal([
        [0, 'CONNECTION_DROPPED'],
        [201, 'ok'],
      ]);
    });

    it('issues short-lived credentials, ignoring the 900-second minimum, until lifted', async () => {
      emu.faults.shortLived(5);
      let r = await call();
      expect(r.json.credentialSet[0].credentials.expiration).to.equal(new Date(clock.now() + 5000).toISOString().replace('.000Z', 'Z'));
      emu.faults.shortLived(undefined);
      r = await call();
      expect(r.json.credentialSet[0].credentials.expiration).to.equal(new Date(clock.now() + 3600_000).toISOString().replace('.000Z', 'Z'));
    });

    it('reset() lifts every fault at once', async () => {
      emu.faults.failNext(5, 503);
      emu.faults.throttle(1);
      emu.faults.dropNext(3);
      emu.faults.reset();
      expect([statusOf(await call()), statusOf(await call())]).to.deep.equal(['201', '201']);
    });

    it('applies faults given in the config at start', async () => {
      await emu.stop();
      const config = { ...baseConfig({ [TA]: [pki.root.certPem] }), faults: { failNext: { count: 1, status: 503, errorType: 'ServiceUnavailableException' } } };
      emu = await startEmulator(config, { clock, httpPort: 0 });
      expect([statusOf(await call()), statusOf(await call())]).to.deep.equal(['503 ServiceUnavailableException', '201']);
    });
  });
});
