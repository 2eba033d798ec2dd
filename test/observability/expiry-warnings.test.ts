import { expect } from 'chai';
import type { ProfileStatus } from '../../src/agent/agent.js';
import { CertificateExpiryWarnings, type ExpiryCheckInput } from '../../src/observability/expiry-warnings.js';
import { ManualClock } from '../../src/time/clock.js';
import { captureLog } from './support.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

function certificate(o: { serial?: string; notAfter: number; chain?: Array<{ subject: string; notAfter: number }> }): ProfileStatus['certificate'] {
  return {
    path: '/etc/pki/host.pem',
    serial: o.serial ?? '0a1b',
    subject: 'CN=host.example.test',
    notAfter: iso(o.notAfter),
    ...(o.chain && { chain: o.chain.map((c) => ({ subject: c.subject, notAfter: iso(c.notAfter) })) }),
  };
}

function setup(thresholdDays = [30, 7, 1]) {
  const clock = new ManualClock(T0);
  const log = captureLog();
  const w = new CertificateExpiryWarnings({ clock, log, thresholdsSeconds: thresholdDays.map((d) => d * 86_400) });
  const messages = () => log.lines.map((l) => `${l.level} ${l.message}`);
  return { clock, log, w, messages };
}

describe('observability: certificate expiry warnings (manual clock)', () => {
  it('warns once per threshold crossed, not at every check, as the clock moves towards the not-after', () => {
    const t = setup();
    const notAfter = T0 + 40 * DAY;
    const inputs: ExpiryCheckInput[] = [{ profile: 'web', certificate: certificate({ notAfter }) }];
    t.w.check(inputs);
    expect(t.messages(), '40 days left: quiet').to.deep.equal([]);

    t.clock.set(notAfter - 30 * DAY + 1000);
    t.w.check(inputs);
    t.w.check(inputs);
    t.clock.advance(DAY);
    t.w.check(inputs);
    expect(t.messages(), 'one warning for 30d, however many checks').to.deep.equal([
      `warn certificate /etc/pki/host.pem of profile "web" expires at ${iso(notAfter)}, in 29 days (warning at 30d) — renew it and replace the file (the agent picks up the new one at once)`,
    ]);
    expect(t.log.lines[0]!.meta).to.deep.include({ threshold: '30d', days_left: 29, serial: '0a1b', profiles: ['web'] });

    t.clock.set(notAfter - 7 * DAY);
    t.w.check(inputs);
    t.clock.set(notAfter - 20 * 3600_000);
    t.w.check(inputs);
    t.clock.advance(3600_000);
    t.w.check(inputs);
    t.clock.set(notAfter + 1);
    t.w.check(inputs);
    t.w.check(inputs);
    expect(t.messages().slice(1)).to.deep.equal([
      `warn certificate /etc/pki/host.pem of profile "web" expires at ${iso(notAfter)}, in 7 days (warning at 7d) — renew it and replace the file (the agent picks up the new one at once)`,
      `warn certificate /etc/pki/host.pem of profile "web" expires at ${iso(notAfter)}, in 20h (warning at 1d) — renew it and replace the file (the agent picks up the new one at once)`,
      `error certificate /etc/pki/host.pem of profile "web" expired at ${iso(notAfter)}: Roles Anywhere refuses it — renew it and replace the file (the agent picks up the new one at once)`,
    ]);
  });

  it('starts at the smallest threshold already crossed, and starts over for a rotated certificate', () => {
    const t = setup();
    const old = T0 + 5 * DAY;
    t.w.check([{ profile: 'web', certificate: certificate({ notAfter: old }) }]);
    expect(t.messages(), 'one warning at 7d, none for 30d').to.have.length(1);
    expect(t.log.lines[0]!.meta['threshold']).to.equal('7d');

    const renewed = T0 + 10 * DAY;
    t.w.check([{ profile: 'web', certificate: certificate({ serial: '0c0d', notAfter: renewed }) }]);
    expect(t.log.lines.map((l) => [l.meta['serial'], l.meta['threshold']]), 'the renewed certificate has its own warnings').to.deep.equal([
      ['0a1b', '7d'],
      ['0c0d', '30d'],
    ]);
  });

  it('warns once for a certificate shared by several profiles, naming them, and for an expiring CA of the chain', () => {
    const t = setup();
    const ca = { subject: 'CN=Issuing CA', notAfter: T0 + 6 * DAY };
    const cert = certificate({ notAfter: T0 + 300 * DAY, chain: [ca] });
    t.w.check([
      { profile: 'web', certificate: cert },
      { profile: 'batch', certificate: cert },
    ]);
    expect(t.messages()).to.deep.equal([
      `warn CA certificate "CN=Issuing CA" of profiles "web", "batch" expires at ${iso(ca.notAfter)}, in 6 days (warning at 7d) — renew the CA certificate and the chain file`,
    ]);
  });

  it('uses the configured thresholds, and none at all for an empty list', () => {
    const t = setup([14]);
    const inputs = [{ profile: 'web', certificate: certificate({ notAfter: T0 + 20 * DAY }) }];
    t.w.check(inputs);
    t.clock.advance(7 * DAY);
    t.w.check(inputs);
    expect(t.log.lines.map((l) => l.meta['threshold'])).to.deep.equal(['14d']);
    t.w.setThresholds([]);
    t.clock.advance(12 * DAY);
    t.w.check(inputs);
    expect(t.log.lines, 'a day left and no threshold: quiet').to.have.length(1);
    t.clock.advance(2 * DAY);
    t.w.check(inputs);
    expect(t.log.lines.map((l) => l.level), 'no threshold warnings; the expiry itself is still an error').to.deep.equal(['warn', 'error']);
  });

  it("says once when the requested session runs past the certificate's not-after, which AWS caps", () => {
    const t = setup([]);
    const notAfter = T0 + 3 * 3600_000;
    const inputs = [
      { profile: 'long', certificate: certificate({ notAfter }), sessionSeconds: 12 * 3600 },
      { profile: 'short', certificate: certificate({ notAfter }), sessionSeconds: 3600 },
    ];
    t.w.check(inputs);
    t.clock.advance(600_000);
    t.w.check(inputs);
    expect(t.messages()).to.deep.equal([
      `warn profile "long": the requested session of 12h runs past the certificate's not-after ${iso(notAfter)}; AWS caps the session at the certificate's expiry, so credentials issued now last only 3h — renew the certificate /etc/pki/host.pem`,
    ]);
    t.clock.set(notAfter - 1800_000);
    t.w.check(inputs);
    expect(t.messages().slice(1), 'the 1h session now runs past it too').to.deep.equal([
      `warn profile "short": the requested session of 1h runs past the certificate's not-after ${iso(notAfter)}; AWS caps the session at the certificate's expiry, so credentials issued now last only 30m — renew the certificate /etc/pki/host.pem`,
    ]);
  });
});
