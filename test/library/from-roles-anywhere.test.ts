import { expect } from 'chai';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromRolesAnywhere, type FromRolesAnywhereOptions } from '../../src/index.js';
import type { AgentError } from '../../src/errors.js';
import { serialDecimal } from '../../src/keys/signer.js';
import { ManualClock } from '../../src/time/clock.js';
import { writePair } from '../helpers/pki.js';
import { SOFTHSM_MODULE, SoftHsm } from '../helpers/softhsm.js';
import { startStsStandIn } from '../helpers/sts-standin.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';

describe('fromRolesAnywhere (the library provider) against the emulator', () => {
  let w: World;
  before(async () => {
    w = await makeWorld();
  });
  after(async () => w.cleanup());

  const base = (): FromRolesAnywhereOptions => ({
    certificate: w.rsaFiles.certificate,
    privateKey: w.rsaFiles.privateKey,
    intermediates: w.rsaFiles.intermediates!,
    trustAnchorArn: TRUST_ANCHOR_ARN,
    profileArn: PROFILE_ARN,
    roleArn: roleArn('app'),
    endpoint: w.emulator.httpsUrl!,
    caBundle: w.caBundle,
    env: {},
  });
  const sessionsSince = (n: number) => w.emulator.requests.slice(n).filter((r) => r.path.startsWith('/sessions'));

  it('returns the SDK identity shape: the issued keys, an expiration Date and the role account', async () => {
    const before = w.emulator.requests.length;
    const provider = fromRolesAnywhere(base());
    try {
      const c = await provider();
      const issued = w.emulator.issued.at(-1)!;
      expect(sessionsSince(before).length, 'CreateSession calls').to.equal(1);
      expect(c.accessKeyId).to.equal(issued.accessKeyId);
      expect(c.secretAccessKey).to.equal(issued.secretAccessKey);
      expect(c.sessionToken).to.equal(issued.sessionToken);
      expect(c.expiration).to.be.instanceOf(Date);
      expect(c.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z')).to.equal(issued.expiration);
      expect(c.accountId).to.equal('111122223333');
    } finally {
      await provider.close();
    }
  });

  it('memoizes: five concurrent calls and one later call make one CreateSession and see the same keys', async () => {
    const before = w.emulator.requests.length;
    const provider = fromRolesAnywhere(base());
    try {
      const all = await Promise.all([provider(), provider(), provider(), provider(), provider()]);
      const later = await provider();
      expect(sessionsSince(before).length, 'CreateSession calls').to.equal(1);
      expect(new Set([...all, later].map((c) => c.accessKeyId)).size, 'distinct access keys').to.equal(1);
    } finally {
      await provider.close();
    }
  });

  it('forceRefresh makes a new request, signed with a certificate replaced on disk in the meantime', async () => {
    const dir = join(w.dir, 'rotate');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const first = writePair(dir, 'lib', w.ec.directLeaf);
    const before = w.emulator.requests.length;
    const provider = fromRolesAnywhere({ ...base(), certificate: first.certificate, privateKey: first.privateKey, intermediates: undefined });
    try {
      const a = await provider();
      writePair(dir, 'lib', w.rsa.directLeaf); // same paths, a new RSA pair
      const b = await provider({ forceRefresh: true });
      const calls = sessionsSince(before);
      expect(calls.map((r) => r.serial), 'serials of the CreateSession calls').to.deep.equal([
        serialDecimal(w.ec.directLeaf.nodeCert),
        serialDecimal(w.rsa.directLeaf.nodeCert),
      ]);
      expect(calls.every((r) => r.ok), 'every call accepted').to.equal(true);
      expect(b.accessKeyId).to.not.equal(a.accessKeyId);
    } finally {
      await provider.close();
    }
  });

  it('refreshes once less than refresh.beforeExpiry remains, and not before (injected clock)', async () => {
    const clock = new ManualClock(Date.now());
    const before = w.emulator.requests.length;
    // One-hour sessions; with a 57-minute margin the credentials are due after 3 minutes.
    const provider = fromRolesAnywhere({ ...base(), sessionDuration: '1h', refresh: { beforeExpiry: '57m' } }, { clock });
    try {
      const a = await provider();
      clock.advance(2 * 60_000);
      const b = await provider();
      expect(sessionsSince(before).length, 'calls after 2 min').to.equal(1);
      expect(b.accessKeyId).to.equal(a.accessKeyId);
      clock.advance(2 * 60_000);
      const c = await provider();
      expect(sessionsSince(before).length, 'calls after 4 min').to.equal(2);
      expect(c.accessKeyId).to.not.equal(a.accessKeyId);
    } finally {
      await provider.close();
    }
  });

  it('a refused role is a typed, non-retryable error the SDK chain stops at (tryNextLink: false)', async () => {
    const provider = fromRolesAnywhere({ ...base(), roleArn: roleArn('not-allowed') });
    try {
      const e = await provider().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect((e as Error).name, String(e)).to.equal('AgentError');
      const err = e as AgentError & { tryNextLink?: boolean };
      expect(err.code).to.equal('ACCESS_DENIED');
      expect(err.retryable).to.equal(false);
      expect(err.tryNextLink).to.equal(false);
    } finally {
      await provider.close();
    }
  });

  it('bad options are refused with the schedule\'s own checks, named in camelCase, before any request', async () => {
    const before = w.emulator.requests.length;
    const provider = fromRolesAnywhere({ ...base(), roleArn: 'arn:aws:iam::1:role', sessionDuration: '5m', privatKey: '/x' } as FromRolesAnywhereOptions);
    const e = (await provider().catch((err: unknown) => err)) as AgentError;
    expect((e as Error).name, String(e)).to.equal('AgentError');
    expect(e.code).to.equal('CONFIG_INVALID');
    expect(e.message).to.match(/^\s+roleArn: .*not a valid role_arn/m);
    expect(e.message).to.match(/^\s+sessionDuration: /m);
    expect(e.message).to.match(/^\s+privatKey: unknown key "privat_key" — did you mean/m);
    expect(w.emulator.requests.length, 'requests').to.equal(before);
    // The same refusal again, not a retry.
    const again = (await provider().catch((err: unknown) => err)) as AgentError;
    expect(again.code).to.equal('CONFIG_INVALID');
  });

  it('an agent-only schedule key (watchInterval) is refused with the reason', async () => {
    const provider = fromRolesAnywhere({ ...base(), watchInterval: '60s' } as FromRolesAnywhereOptions);
    const e = (await provider().catch((err: unknown) => err)) as AgentError;
    expect(e.code).to.equal('CONFIG_INVALID');
    expect(e.message).to.match(/^\s+watchInterval: not an option of the provider: only the agent watches files/m);
  });

  it('a cron refresh is refused: it has no meaning for a provider', async () => {
    const provider = fromRolesAnywhere({ ...base(), refresh: { cron: '0 * * * *' } as never });
    const e = (await provider().catch((err: unknown) => err)) as AgentError;
    expect(e.code).to.equal('CONFIG_INVALID');
    expect(e.message).to.contain('refresh.cron');
  });

  it('signs with a key on a SoftHSM2 token (pkcs11: URI)', async () => {
    const hsm = SoftHsm.create(join(w.dir, 'softhsm-lib'));
    const token = hsm.initToken('lib-token');
    hsm.writeKey(token, w.rsa.leaf.privateKey, { id: Buffer.from([7]), label: 'lib-rsa' });
    const before = w.emulator.requests.length;
    const provider = fromRolesAnywhere({
      ...base(),
      privateKey: 'pkcs11:token=lib-token;object=lib-rsa;type=private',
      pkcs11Lib: SOFTHSM_MODULE,
      pkcs11PinEnv: 'LIB_TEST_PIN',
      env: { LIB_TEST_PIN: token.pin, SOFTHSM2_CONF: hsm.conf },
    });
    try {
      const c = await provider();
      const calls = sessionsSince(before);
      expect(calls.map((r) => [r.ok, r.serial])).to.deep.equal([[true, serialDecimal(w.rsa.leaf.nodeCert)]]);
      expect(c.accessKeyId).to.equal(w.emulator.issued.at(-1)!.accessKeyId);
    } finally {
      await provider.close();
    }
  });

  it('the real SDK (@aws-sdk/client-sts) calls GetCallerIdentity with its credentials; the stand-in checks the SigV4 signature', async () => {
    const sts = await startStsStandIn(() => w.emulator.issued);
    const provider = fromRolesAnywhere(base());
    const client = new STSClient({ region: 'us-east-1', endpoint: sts.url, credentials: provider, maxAttempts: 1 });
    try {
      const who = await client.send(new GetCallerIdentityCommand({}));
      expect(who.Account).to.equal('111122223333');
      expect(who.Arn).to.equal(`arn:aws:sts::111122223333:assumed-role/app/${w.emulator.issued.at(-1)!.roleSessionName}`);
      expect(sts.calls.map((c) => c.ok)).to.deep.equal([true]);
      // A second call reuses the memoized credentials.
      await client.send(new GetCallerIdentityCommand({}));
      expect(new Set(sts.calls.map((c) => c.accessKeyId)).size).to.equal(1);
    } finally {
      client.destroy();
      await provider.close();
      await sts.stop();
    }
  });
});
