import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import winston from 'winston';
import { createLogger } from '../../src/log/logger.js';
import { Redactor } from '../../src/log/redact.js';

function capture(human: boolean) {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (d) => (out += d.toString()));
  const redactor = new Redactor();
  const log = createLogger({ human, redactor, stream, level: 'debug' });
  return { log, redactor, text: () => out };
}

describe('logging with redaction', () => {
  it('masks a registered secret in the message and in nested metadata, keeping at most its last 4 characters', async () => {
    const { log, redactor, text } = capture(false);
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    redactor.add(secret);
    log.info(`got ${secret}`, { nested: { deeper: [secret] } });
    await new Promise((r) => setImmediate(r));
    expect(text()).to.not.include(secret);
    expect(text()).to.include('****EKEY');
    const line = JSON.parse(text().trim());
    expect(line.nested.deeper[0]).to.equal('****EKEY');
  });

  it('masks credential assignments and PEM private keys that were never registered', () => {
    const r = new Redactor();
    expect(r.redact('aws_session_token = FwoGZXIvYXdzEJr//////////wEaDOz=')).to.equal('aws_session_token = ****DOz=');
    expect(r.redact('{"SecretAccessKey":"abcdefghijklmnop"}')).to.equal('{"SecretAccessKey":"****mnop"}');
    expect(r.redact('x -----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY----- y')).to.equal('x [REDACTED PRIVATE KEY] y');
    expect(r.redact('-----BEGIN EC PRIVATE KEY-----\nAA\n-----END EC PRIVATE KEY-----')).to.equal('[REDACTED PRIVATE KEY]');
  });

  it('masks the password of a URL (a proxy in HTTPS_PROXY), keeping the user and host', () => {
    const r = new Redactor();
    expect(r.redact('via http://alice:s3cret@proxy.corp:3128 failed')).to.equal('via http://alice:****@proxy.corp:3128 failed');
    expect(r.redact('https://u:p%40ss:word@h/')).to.equal('https://u:****@h/');
    expect(r.redact('https://rolesanywhere.eu-west-1.amazonaws.com:443/sessions'), 'a URL without user info').to.equal('https://rolesanywhere.eu-west-1.amazonaws.com:443/sessions');
    expect(r.redact('http://alice@proxy:3128'), 'a user without a password').to.equal('http://alice@proxy:3128');
  });

  it('keeps a profile\'s current and previous credentials masked and forgets older ones, so the set stays bounded', () => {
    const r = new Redactor();
    const generation = (n: number) => [`SECRETKEY${String(n).padStart(31, '0')}`, `SESSIONTOKEN${String(n).padStart(200, '0')}`];
    for (let n = 0; n < 10_000; n++) r.hold('credentials:prod', generation(n));
    expect(r.size).to.equal(4);
    const [current, token] = generation(9999);
    const [previous] = generation(9998);
    const [older] = generation(9997);
    expect(r.redact(`a ${current} b ${token} c ${previous}`)).to.equal(`a ${'****'}${current!.slice(-4)} b ****${token!.slice(-4)} c ****${previous!.slice(-4)}`);
    expect(r.redact(`x ${older}`)).to.equal(`x ${older}`);
  });

  it('masks the longer of two registered secrets that start alike, and a secret two owners hold until both let go', () => {
    const r = new Redactor();
    r.add('abcdef123');
    r.hold('p1', ['abcdef123456789']);
    r.hold('p2', ['xyz987654321']);
    r.hold('p3', ['xyz987654321']);
    expect(r.redact('[abcdef123456789] [abcdef123] [xyz987654321]')).to.equal('[****6789] [****f123] [****4321]');
    r.hold('p2', ['p2-second']);
    r.hold('p2', ['p2-third']);
    expect(r.redact('xyz987654321'), 'p3 still holds it').to.equal('****4321');
    r.hold('p3', ['p3-second']);
    r.hold('p3', ['p3-third']);
    r.hold('p1', ['p1-second']);
    r.hold('p1', ['p1-third']);
    expect(r.redact('xyz987654321 abcdef123456789')).to.equal('xyz987654321 ****f123456789');
    expect(r.size, 'the permanent one and two generations of each owner').to.equal(7);
  });

  it('masks a secret that is the whole text, and a short one registered after long ones; forgets the shortest when it is released', () => {
    const r = new Redactor();
    const long = 'L'.repeat(40);
    r.hold('p1', [long]);
    expect(r.redact(long), 'a text exactly as long as the only secret').to.equal(`****${long.slice(-4)}`);
    expect(r.redact('short text'), 'shorter than every secret: left as it is').to.equal('short text');
    r.add('pin123');
    expect(r.redact('the pin pin123 was used'), 'a 6-character secret registered after a 40-character one').to.equal('the pin **** was used');
    r.hold('p2', ['tok456']);
    r.hold('p2', ['tok457']);
    r.hold('p2', ['tok458']);
    expect(r.redact('tok456 tok457 tok458'), 'the oldest generation is forgotten, the two later ones masked').to.equal('tok456 **** ****');
    const r2 = new Redactor();
    r2.hold('p', ['abcdef']);
    r2.hold('p', ['ghijkl']);
    r2.hold('p', [long]);
    expect(r2.redact('abcdef ghijkl'), 'the 6-character generation that is left').to.equal('abcdef ****');
    r2.hold('p', [`${long}x`]);
    expect(r2.redact(`ghijkl ${long}x`), 'only 40+ character secrets are left').to.equal(`ghijkl ****${long.slice(-3)}x`);
  });

  it('keeps masking right when every profile\'s session token starts alike (as STS tokens do), through three generations of 1000 profiles', () => {
    const r = new Redactor();
    const token = (p: number, g: number) => `IQoJb3JpZ2luX2VjE${'x'.repeat(200)}${p}g${g}`;
    for (let g = 0; g < 3; g++) for (let p = 0; p < 1000; p++) r.hold(`credentials:p${p}`, [token(p, g)]);
    expect(r.size, 'two generations of 1000 profiles').to.equal(2000);
    expect(r.redact(`a ${token(7, 2)} b`), 'the current generation').to.equal(`a ****${token(7, 2).slice(-4)} b`);
    expect(r.redact(`a ${token(999, 1)} b`), 'the previous generation').to.equal(`a ****${token(999, 1).slice(-4)} b`);
    expect(r.redact(`a ${token(7, 0)} b`), 'the oldest generation is forgotten').to.equal(`a ${token(7, 0)} b`);
  });

  it('does not format or redact a record below the level', async () => {
    const stream = new PassThrough();
    let out = '';
    stream.on('data', (d) => (out += d.toString()));
    const log = createLogger({ human: false, redactor: new Redactor(), stream, level: 'info' });
    let reads = 0;
    const meta = {
      get detail() {
        reads++;
        return 'x';
      },
    };
    log.debug('not shown', meta);
    log.info('shown', meta);
    await new Promise((r) => setImmediate(r));
    expect(reads, 'metadata read only for the info record').to.equal(1);
    expect(out).to.include('"message":"shown"').and.not.include('not shown');
  });

  it('writes each record as one line at once, in order, keeping the metadata of a message that holds "%s", and the level set later', () => {
    const { log, text } = capture(false);
    log.info('first', { profile: 'a' });
    log.warn('100%s done', { profile: 'b' });
    log.debug('third');
    const lines = text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l['level'], l['message'], l['profile']])).to.deep.equal([
      ['info', 'first', 'a'],
      ['warn', '100%s done', 'b'],
      ['debug', 'third', undefined],
    ]);
    expect(lines[0]!['timestamp']).to.match(/^\d{4}-\d\d-\d\dT/);
    const before = text();
    log.setLevel('warn');
    log.info('hidden');
    expect(text(), 'an info record after setLevel("warn")').to.equal(before);
  });

  it('writes exactly the JSON line winston.format.json() would: keys sorted at every level, a BigInt as a string', () => {
    const { log, text } = capture(false);
    log.info('shaped', { zeta: 1, alpha: { delta: [2, { y: 'b', x: 'a' }], charlie: null }, big: 12345678901234567890n });
    const line = text().trimEnd();
    const timestamp = (JSON.parse(line) as { timestamp: string }).timestamp;
    const info = { zeta: 1, alpha: { delta: [2, { y: 'b', x: 'a' }], charlie: null }, big: 12345678901234567890n, level: 'info', message: 'shaped', timestamp, [Symbol.for('level')]: 'info' };
    const expected = (winston.format.json().transform(info, {}) as Record<symbol, unknown>)[Symbol.for('message')];
    expect(line).to.equal(expected);
    expect(line.indexOf('"alpha"')).to.be.lessThan(line.indexOf('"zeta"'));
  });

  it('writes a line saying what happened when a record cannot be formatted, and never throws at the caller', () => {
    const { log, redactor, text } = capture(true);
    redactor.add('hunter2-secret');
    expect(() => log.error('refresh failed for hunter2-secret', { size: 10n })).to.not.throw();
    expect(text()).to.match(/ error a log line could not be formatted \(TypeError\): refresh failed for \*\*\*\*cret\n$/);
  });

  it('writes human lines with the level and key=value extras', async () => {
    const { log, text } = capture(true);
    log.warn('profile refreshed', { profile: 'prod', next: 'in 45m' });
    await new Promise((r) => setImmediate(r));
    expect(text()).to.match(/ warn {2}profile refreshed profile=prod next="in 45m"\n$/);
  });
});
