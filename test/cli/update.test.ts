import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { updateCommand } from '../../src/cli/update.js';
import { profileNameProblem, readProfiles } from '../../src/credentials-file/index.js';
import { captureIO } from '../helpers/io.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';

const FOREIGN = '# my settings\r\n[default]\r\nregion = eu-west-1\r\naws_access_key_id = AKIAKEEPME\r\n\r\n[other]\r\nfoo = bar\r\n';

async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('update (drop-in for the official helper)', () => {
  let w: World;
  before(async () => {
    w = await makeWorld();
  });
  after(async () => w.cleanup());
  afterEach(() => w.emulator.faults.reset());

  const flags = (file: string, profile: string) => [
    '--profile', profile,
    '--credentials-file', file,
    '--certificate', w.ecFiles.certificate,
    '--private-key', w.ecFiles.privateKey,
    '--trust-anchor-arn', TRUST_ANCHOR_ARN,
    '--profile-arn', PROFILE_ARN,
    '--role-arn', roleArn('app'),
    '--endpoint', w.emulator.httpsUrl!,
    '--ca-bundle', w.caBundle,
  ];

  it('--once writes only its profile and keeps every other byte, CRLF included', async () => {
    const file = join(w.dir, 'credentials-once');
    writeFileSync(file, FOREIGN, { mode: 0o600 });
    const io = captureIO();
    const code = await updateCommand([...flags(file, 'ci'), '--once'], io);
    expect(code, io.err()).to.equal(0);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith(FOREIGN), 'foreign bytes kept').to.equal(true);
    const issued = w.emulator.issued.at(-1)!;
    const ci = readProfiles(text).get('ci')!;
    expect(ci.get('aws_access_key_id')).to.equal(issued.accessKeyId);
    expect(ci.get('aws_secret_access_key')).to.equal(issued.secretAccessKey);
    expect(ci.get('aws_session_token')).to.equal(issued.sessionToken);
    expect(ci.get('x_security_token_expires')).to.equal(issued.expiration);
    expect(io.err()).to.not.include(issued.secretAccessKey);
  });

  for (const name of ['__proto__', 'DEFAULT', 'a b']) {
    it(`refuses --profile ${JSON.stringify(name)} before any CreateSession, with the schedule's message (exit 2)`, async () => {
      const file = join(w.dir, 'credentials-bad-name');
      const before = w.emulator.requests.length;
      const io = captureIO();
      const code = await updateCommand([...flags(file, name), '--once'], io);
      expect(code, `exit code; stderr: ${io.err()}`).to.equal(2);
      expect(io.err(), 'stderr').to.equal(`rolesanywhere-agent update: --profile: ${profileNameProblem(name)!.message} — ${profileNameProblem(name)!.hint}\n`);
      expect(w.emulator.requests.length - before, 'CreateSession requests made').to.equal(0);
    });
  }

  it('--once exits with the failure class when the service refuses', async () => {
    const file = join(w.dir, 'credentials-refused');
    const io = captureIO();
    const args = flags(file, 'x').map((a) => (a === roleArn('app') ? roleArn('not-allowed') : a));
    const code = await updateCommand([...args, '--once'], io);
    expect(code).to.equal(3);
    expect(io.err()).to.match(/AccessDenied/);
  });

  it('keeps running through transient failures and writes once the service is back', async () => {
    const file = join(w.dir, 'credentials-loop');
    w.emulator.faults.failNext(4, 503);
    const io = captureIO();
    const done = updateCommand(flags(file, 'loop'), io);
    // The client retries in-call (4 attempts); the fifth request succeeds on the job's retry.
    await until(() => {
      try {
        return readProfiles(readFileSync(file, 'utf8')).has('loop');
      } catch {
        return false;
      }
    }, 15_000);
    io.abort();
    expect(await done).to.equal(0);
    expect(io.err()).to.include('refresh failed; the profile has no credentials yet');
  });
});
