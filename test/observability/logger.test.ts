import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/observability/logger.js';
import { Redactor } from '../../src/observability/redact.js';

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

  it('writes human lines with the level and key=value extras', async () => {
    const { log, text } = capture(true);
    log.warn('profile refreshed', { profile: 'prod', next: 'in 45m' });
    await new Promise((r) => setImmediate(r));
    expect(text()).to.match(/ warn {2}profile refreshed profile=prod next="in 45m"\n$/);
  });
});
