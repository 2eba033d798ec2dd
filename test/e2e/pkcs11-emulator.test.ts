import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentialProcessCommand } from '../../src/cli/credential-process.js';
import { exitCodeForCode } from '../../src/cli/exit-codes.js';
import { onceCommand } from '../../src/cli/once.js';
import { readProfiles } from '../../src/credentials-file/index.js';
import { serialDecimal } from '../../src/keys/signer.js';
import { scheduleDoc, writeSchedule } from '../agent/fixtures/schedule.js';
import { captureIO } from '../helpers/io.js';
import { SOFTHSM_MODULE, SoftHsm } from '../helpers/softhsm.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';

/** Keys on a real SoftHSM2 token signing CreateSession requests that the strict emulator verifies. */
describe('PKCS#11 keys against the emulator (SoftHSM2)', () => {
  let w: World;
  let hsm: SoftHsm;
  const PIN_ENV = 'TEST_TOKEN_PIN';
  let env: NodeJS.ProcessEnv;
  before(async () => {
    w = await makeWorld();
    hsm = SoftHsm.create(join(w.dir, 'softhsm'));
    const token = hsm.initToken('agent-token');
    hsm.writeKey(token, w.rsa.leaf.privateKey, { id: Buffer.from([1]), label: 'rsa-leaf' });
    hsm.writeKey(token, w.ec.directLeaf.privateKey, { id: Buffer.from([2]), label: 'ec-leaf' });
    hsm.writeCert(token, w.ec.directLeaf.nodeCert, { id: Buffer.from([2]), label: 'ec-leaf' });
    env = { [PIN_ENV]: token.pin, SOFTHSM2_CONF: hsm.conf };
  });
  const p11Defaults = { pkcs11_lib: SOFTHSM_MODULE, pkcs11_pin_env: PIN_ENV };
  after(async () => w.cleanup());

  it('credential-process signs with an RSA key on the token and a certificate file; the emulator accepts it', async () => {
    const io = captureIO(env);
    const code = await credentialProcessCommand(
      [
        '--certificate', w.rsaFiles.certificate,
        '--intermediates', w.rsaFiles.intermediates!,
        '--private-key', 'pkcs11:token=agent-token;object=rsa-leaf;type=private',
        '--pkcs11-lib', SOFTHSM_MODULE,
        '--pkcs11-pin-env', PIN_ENV,
        '--trust-anchor-arn', TRUST_ANCHOR_ARN, '--profile-arn', PROFILE_ARN, '--role-arn', roleArn('app'),
        '--endpoint', w.emulator.httpsUrl!, '--ca-bundle', w.caBundle,
      ],
      io,
    );
    expect(code, io.err()).to.equal(0);
    const last = w.emulator.requests.at(-1)!;
    expect(last.ok).to.equal(true);
    expect(last.serial).to.equal(serialDecimal(w.rsa.leaf.nodeCert));
    expect(JSON.parse(io.out()).AccessKeyId).to.equal(w.emulator.issued.at(-1)!.accessKeyId);
  });

  it('credential-process exits 2 (bad input, not retryable) when the URI names a key the token does not hold, naming the URI without its PIN', async () => {
    const io = captureIO(env);
    const requestsBefore = w.emulator.requests.length;
    const code = await credentialProcessCommand(
      [
        '--certificate', w.rsaFiles.certificate,
        '--private-key', 'pkcs11:token=agent-token;object=no-such-key;type=private?pin-value=1234',
        '--pkcs11-lib', SOFTHSM_MODULE,
        '--trust-anchor-arn', TRUST_ANCHOR_ARN, '--profile-arn', PROFILE_ARN, '--role-arn', roleArn('app'),
        '--endpoint', w.emulator.httpsUrl!, '--ca-bundle', w.caBundle,
      ],
      io,
    );
    expect(code, io.err()).to.equal(2);
    expect(io.err(), 'the error names the URI').to.contain('pkcs11:token=agent-token;object=no-such-key;type=private');
    expect(io.err(), 'the error suggests list-certs').to.contain('list-certs');
    expect(io.err(), 'the PIN is redacted').not.to.contain('pin-value=1234');
    expect(io.out(), 'nothing on stdout').to.equal('');
    expect(w.emulator.requests.length, 'no CreateSession was sent').to.equal(requestsBefore);
  });

  it('once reports PKCS11_OBJECT_NOT_FOUND (exit 2 class) for the profile whose id= names no key on the token, with a hint naming the URI', async () => {
    const file = join(w.dir, 'credentials-p11-missing');
    const schedule = writeSchedule(
      join(w.dir, 'p11-missing.yaml'),
      scheduleDoc(w, file, { 'p11-missing': { role: 'app', key: { certificate: w.rsaFiles.certificate, privateKey: 'pkcs11:token=agent-token;id=%7f;type=private' } } }, { defaults: p11Defaults }),
    );
    const io = captureIO(env);
    const code = await onceCommand(['--config', schedule, '--json'], io);
    // once's own exit code stays the documented 6 ("some profiles are not fresh"); the profile's
    // error carries the class: exitCodeForCode of it is the bad-input 2, not the transient 5.
    expect(code, io.err()).to.equal(6);
    const report = JSON.parse(io.out()) as Array<{ name: string; lastError?: { code: string; message: string; hint?: string } }>;
    const entry = report.find((p) => p.name === 'p11-missing');
    expect(entry?.lastError?.code, io.out()).to.equal('PKCS11_OBJECT_NOT_FOUND');
    expect(exitCodeForCode(entry!.lastError!.code), 'exit class of the error').to.equal(2);
    expect(entry?.lastError?.hint, io.out()).to.contain('fix object=/id= in pkcs11:token=agent-token;id=%7f;type=private').and.to.contain('list-certs');
  });

  it('once fills two profiles from keys on one token (EC key and certificate both on the token)', async () => {
    const file = join(w.dir, 'credentials-p11');
    const schedule = writeSchedule(
      join(w.dir, 'p11.yaml'),
      scheduleDoc(
        w,
        file,
        {
          'p11-rsa': { role: 'app', key: { ...w.rsaFiles, privateKey: 'pkcs11:token=agent-token;object=rsa-leaf;type=private' } },
          'p11-ec': { role: 'backup', key: { certificate: 'pkcs11:token=agent-token;object=ec-leaf;type=cert', privateKey: 'pkcs11:token=agent-token;object=ec-leaf;type=private' } },
        },
        { defaults: p11Defaults },
      ),
    );
    const io = captureIO(env);
    const code = await onceCommand(['--config', schedule], io);
    expect(code, io.err() + io.out()).to.equal(0);
    const profiles = readProfiles(readFileSync(file, 'utf8'));
    const byRole = (r: string) => w.emulator.issued.filter((i) => i.roleArn === roleArn(r)).at(-1)!;
    expect(profiles.get('p11-rsa')!.get('aws_access_key_id')).to.equal(byRole('app').accessKeyId);
    expect(profiles.get('p11-ec')!.get('aws_access_key_id')).to.equal(byRole('backup').accessKeyId);
    expect(w.emulator.requests.some((r) => r.ok && r.serial === serialDecimal(w.ec.directLeaf.nodeCert))).to.equal(true);
  });
});
