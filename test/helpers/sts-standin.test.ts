/**
 * The STS stand-in the consumer tests trust to say "these credentials work": it must refuse
 * what the real STS refuses — expired credentials, a wrong secret, a session token that is not the
 * one issued with the key, an unknown key — and accept a correctly signed call. Driven by the real
 * JS SDK client.
 */
import { expect } from 'chai';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { startStsStandIn, type StsStandIn } from './sts-standin.js';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const known = (id: string, expiresInMs: number) => ({
  accessKeyId: id,
  secretAccessKey: `secret-of-${id}-0123456789abcdef0123456789`,
  sessionToken: `token-of-${id}`,
  expiration: iso(Date.now() + expiresInMs),
  roleArn: 'arn:aws:iam::111122223333:role/app',
  roleSessionName: 'serial-1234',
});

describe('the STS stand-in (test helper)', () => {
  const fresh = known('ASIAFRESH0000000000A', 3600_000);
  const expired = known('ASIAEXPIRED00000000A', -1000);
  let sts: StsStandIn;
  before(async () => {
    sts = await startStsStandIn(() => [fresh, expired]);
  });
  after(async () => sts.stop());

  const call = async (c: { accessKeyId: string; secretAccessKey: string; sessionToken: string }) => {
    const credentials = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
    const client = new STSClient({ region: 'us-east-1', endpoint: sts.url, credentials, maxAttempts: 1 });
    try {
      const who = await client.send(new GetCallerIdentityCommand({}));
      return { ok: true, arn: who.Arn, account: who.Account };
    } catch (e) {
      return { ok: false, code: (e as { name?: string }).name };
    } finally {
      client.destroy();
    }
  };

  it('answers a correctly signed GetCallerIdentity with the role of the issued credentials', async () => {
    expect(await call(fresh)).to.deep.equal({ ok: true, arn: 'arn:aws:sts::111122223333:assumed-role/app/serial-1234', account: '111122223333' });
    expect(sts.calls.at(-1)).to.deep.equal({ accessKeyId: fresh.accessKeyId, ok: true });
  });

  it('refuses expired credentials (ExpiredToken), however well signed', async () => {
    expect(await call(expired)).to.deep.equal({ ok: false, code: 'ExpiredToken' });
    expect(sts.calls.at(-1)).to.include({ accessKeyId: expired.accessKeyId, ok: false });
  });

  it('refuses a wrong secret, a foreign session token and an unknown key', async () => {
    expect(await call({ ...fresh, secretAccessKey: 'not-the-secret-0123456789abcdef01234567' }), 'wrong secret').to.deep.equal({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(await call({ ...fresh, sessionToken: expired.sessionToken }), 'another key\'s token').to.deep.equal({ ok: false, code: 'InvalidClientTokenId' });
    expect(await call({ ...fresh, accessKeyId: 'ASIAUNKNOWN00000000A' }), 'unknown key').to.deep.equal({ ok: false, code: 'InvalidClientTokenId' });
  });
});
