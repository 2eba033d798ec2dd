import { expect } from 'chai';
import { credentialProcessCommand } from '../../src/cli/credential-process.js';
import { captureIO } from '../helpers/io.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';

describe('credential-process against the emulator over HTTPS', () => {
  let w: World;
  before(async () => {
    w = await makeWorld();
  });
  after(async () => w.cleanup());

  const base = () => ['--trust-anchor-arn', TRUST_ANCHOR_ARN, '--profile-arn', PROFILE_ARN, '--role-arn', roleArn('app'), '--endpoint', w.emulator.httpsUrl!, '--ca-bundle', w.caBundle];

  it('prints exactly the credential_process JSON for an RSA leaf with its intermediate', async () => {
    const io = captureIO();
    const code = await credentialProcessCommand([...base(), '--certificate', w.rsaFiles.certificate, '--private-key', w.rsaFiles.privateKey, '--intermediates', w.rsaFiles.intermediates!], io);
    expect(io.err()).to.equal('');
    expect(code).to.equal(0);
    const out = JSON.parse(io.out());
    const issued = w.emulator.issued.at(-1)!;
    expect(Object.keys(out)).to.deep.equal(['Version', 'AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration']);
    expect(out.Version).to.equal(1);
    expect(out.AccessKeyId).to.equal(issued.accessKeyId);
    expect(out.SecretAccessKey).to.equal(issued.secretAccessKey);
    expect(out.SessionToken).to.equal(issued.sessionToken);
    expect(out.Expiration).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});
