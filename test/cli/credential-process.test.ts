/**
 * `credential-process` in-process against the strict emulator over HTTPS: every key format the
 * command reads, every flag that shapes the session or the endpoint, every bad input (exit 2 and no
 * request), every service refusal (3), throttling (4), unavailability (5) and the retries in between.
 * One world per describe keeps it fast; every test's stderr is checked for leaked secrets.
 */
import 'reflect-metadata';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { credentialProcessCommand } from '../../src/cli/credential-process.js';
import { EXIT } from '../../src/cli/io.js';
import { captureIO, type CapturedIO } from '../helpers/io.js';
import { issue, writePair, type Issued } from '../helpers/pki.js';
import { makeWorld, PROFILE_ARN, roleArn, ROLES, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';
import { openssl, write } from '../keys/fixtures.js';

/** A profile that lists every role but refuses a custom roleSessionName, as the service's default. */
const STRICT_PROFILE_ARN = 'arn:aws:rolesanywhere:us-east-1:111122223333:profile/33333333-3333-4333-8333-333333333333';
/** A role that exists and trusts the anchor but no profile lists. */
const OUTSIDER_ROLE = roleArn('outsider');
const KEY_PASSWORD = 'key pässword 1';
const P12_PASSWORD = 'p12 pässword 2';
const PREFIX = 'rolesanywhere-agent credential-process: ';

interface Run {
  code: number;
  out: string;
  err: string;
  /** Requests the emulator recorded during this run. */
  requests: World['emulator']['requests'];
}

describe('credential-process against the emulator over HTTPS', function () {
  this.timeout(20_000);
  let w: World;
  const ios: CapturedIO[] = [];
  /** Fixture paths by name, written once into the world's directory. */
  const f: Record<string, string> = {};

  before(async () => {
    w = await makeWorld();
    w.emulator.config.roles.push({ arn: OUTSIDER_ROLE, trustAnchorArns: [TRUST_ANCHOR_ARN] });
    w.emulator.config.profiles.push({ arn: STRICT_PROFILE_ARN, roleArns: [...ROLES], acceptRoleSessionName: false });
    await writeFixtures();
  });
  after(async () => w?.cleanup());
  afterEach(function () {
    w.emulator.faults.reset();
    // Issued secrets and tokens, the passwords, and a line from the body of every private key.
    const keyLines = [w.rsa.leaf, w.rsa.directLeaf, w.ec.leaf, w.ec.directLeaf].map((l) => l.keyPem.split('\n')[1]!);
    const secrets = [KEY_PASSWORD, P12_PASSWORD, ...keyLines, ...w.emulator.issued.flatMap((c) => [c.secretAccessKey, c.sessionToken])];
    const leaked = ios.flatMap((io) => secrets.filter((s) => io.err().includes(s)).map((s) => `${s.slice(0, 6)}…`));
    ios.length = 0;
    expect(leaked, `secrets on stderr in "${this.currentTest?.title}"`).to.deep.equal([]);
  });

  async function writeFixtures(): Promise<void> {
    const dir = w.dir;
    const { rsa, ec } = w;
    const pair = (name: string, leaf: Issued, chain: Issued[] = []) => {
      const p = writePair(dir, name, leaf, chain);
      f[`${name}.crt`] = p.certificate;
      f[`${name}.key`] = p.privateKey;
      if (p.intermediates) f[`${name}.chain`] = p.intermediates;
    };
    pair('rsa-leaf', rsa.leaf, [rsa.intermediate]);
    pair('rsa-direct', rsa.directLeaf);
    pair('ec-leaf', ec.leaf, [ec.intermediate]);
    pair('ec-direct', ec.directLeaf);
    f['rsa-fullchain.crt'] = write(dir, 'rsa-fullchain.pem', rsa.leaf.certPem + rsa.intermediate.certPem);
    f['ec-fullchain.crt'] = write(dir, 'ec-fullchain.pem', ec.leaf.certPem + ec.intermediate.certPem);

    // Encrypted PKCS#8 (PBES2, AES-256-CBC) written by node: no password ever reaches argv.
    const encrypted = (leaf: Issued) => leaf.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: KEY_PASSWORD }) as string;
    f['rsa-enc.key'] = write(dir, 'rsa-enc.key.pem', encrypted(rsa.leaf));
    f['ec-enc.key'] = write(dir, 'ec-enc.key.pem', encrypted(ec.directLeaf));
    f['password'] = write(dir, 'key-password.txt', `${KEY_PASSWORD}\n`);
    f['wrong-password'] = write(dir, 'wrong-password.txt', 'not the password\n');
    f['p12-password'] = write(dir, 'p12-password.txt', P12_PASSWORD);

    // PKCS#12 by openssl; passwords through env: only.
    const p12 = (name: string, leaf: Issued, certs: Issued[], password: string | undefined, extra: string[] = []) => {
      const out = join(dir, name);
      const args = ['pkcs12', '-export', '-in', write(dir, `${name}.crt`, leaf.certPem), '-inkey', write(dir, `${name}.key`, leaf.keyPem), '-out', out];
      if (certs.length) args.push('-certfile', write(dir, `${name}.certs`, certs.map((c) => c.certPem).join('')));
      args.push('-passout', password === undefined ? 'pass:' : 'env:P12_PW', ...extra);
      openssl(args, password === undefined ? {} : { P12_PW: password });
      f[name] = out;
    };
    p12('rsa-pw.p12', rsa.directLeaf, [], P12_PASSWORD);
    p12('ec-nopw.p12', ec.directLeaf, [], undefined);
    p12('ec-plain.p12', ec.directLeaf, [], undefined, ['-keypbe', 'NONE', '-certpbe', 'NONE']);
    p12('rsa-chain.p12', rsa.leaf, [rsa.intermediate, rsa.root], P12_PASSWORD);

    // Certificates the service would refuse, each with its own valid key.
    const bad = async (name: string, o: Omit<Parameters<typeof issue>[0], 'name' | 'issuer'>) => {
      pair(name, await issue({ name: `${name}.example.test`, issuer: rsa.intermediate, ...o }), [rsa.intermediate]);
    };
    const day = 864e5;
    await bad('expired', { notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day) });
    await bad('future', { notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 30 * day) });
    await bad('ca-leaf', { ca: true, keyUsages: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign });
    await bad('no-digsig', { keyUsages: x509.KeyUsageFlags.keyEncipherment });
    await bad('sha1', { hash: 'SHA-1' });
    // A chain file holding the EC intermediate for the RSA leaf.
    f['wrong-chain'] = write(dir, 'wrong-chain.pem', ec.intermediate.certPem);
    f['garbage.crt'] = write(dir, 'garbage.pem', '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
    f['garbage.key'] = write(dir, 'garbage.key.pem', '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n');
    f['text.crt'] = write(dir, 'notes.txt', 'this is not a certificate\n');
    f['missing'] = join(dir, 'no-such-file.pem');
    f['unreadable-dir'] = join(dir, 'a-directory.pem');
    mkdirSync(f['unreadable-dir']);

    // A PKI the emulator's trust anchor does not hold.
    const strangerRoot = await issue({ name: 'Stranger Root', kind: 'ec', ca: true });
    pair('stranger', await issue({ name: 'stranger.example.test', kind: 'ec', issuer: strangerRoot }));
  }

  function args(o: { role?: string; profile?: string; endpoint?: string | null; ca?: string | null } = {}): string[] {
    const a = ['--trust-anchor-arn', TRUST_ANCHOR_ARN, '--profile-arn', o.profile ?? PROFILE_ARN, '--role-arn', o.role ?? roleArn('app')];
    if (o.endpoint !== null) a.push('--endpoint', o.endpoint ?? w.emulator.httpsUrl!);
    if (o.ca !== null) a.push('--ca-bundle', o.ca ?? w.caBundle);
    return a;
  }
  const key = (name: string) => ['--certificate', f[`${name}.crt`]!, '--private-key', f[`${name}.key`]!];

  async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
    const io = captureIO(env);
    ios.push(io);
    const before = w.emulator.requests.length;
    const code = await credentialProcessCommand(argv, io);
    const r = { code, out: io.out(), err: io.err(), requests: w.emulator.requests.slice(before) };
    expect(r.err, 'the command names itself once per line').not.to.contain(`${PREFIX}credential-process:`);
    if (code === EXIT.OK) {
      expect(r.out, 'stdout on success is exactly one JSON line').to.match(/^\{[^\n]*\}\n$/);
    } else {
      expect(r.out, `stdout on failure (exit ${code}) must be empty`).to.equal('');
    }
    return r;
  }

  /** Exit 0, stdout is the issued credentials; returns the parsed output. */
  function expectIssued(r: Run, o: { stderr?: string } = {}): Record<string, unknown> {
    expect(r.code, `exit code (stderr: ${r.err})`).to.equal(EXIT.OK);
    expect(r.err, 'stderr').to.equal(o.stderr ?? '');
    const out = JSON.parse(r.out) as Record<string, unknown>;
    const issued = w.emulator.issued.at(-1)!;
    expect(r.requests.at(-1)?.ok, 'the last request of the run was the successful one').to.equal(true);
    expect(Object.keys(out)).to.deep.equal(['Version', 'AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration']);
    expect(out).to.deep.equal({
      Version: 1,
      AccessKeyId: issued.accessKeyId,
      SecretAccessKey: issued.secretAccessKey,
      SessionToken: issued.sessionToken,
      Expiration: issued.expiration.replace(/\.\d{3}Z$/, 'Z'),
    });
    expect(out['Expiration']).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    return out;
  }

  /** Exit 2, one line naming `names` and carrying a fix, and the emulator never asked. */
  function expectBadInput(r: Run, names: string[], fix: string | RegExp): void {
    expect(r.code, `exit code (stderr: ${r.err})`).to.equal(EXIT.BAD_INPUT);
    expect(r.requests, 'requests made for bad input').to.deep.equal([]);
    expect(r.err.startsWith(PREFIX), `stderr starts with the command name: ${r.err}`).to.equal(true);
    expect(r.err.split('\n'), 'stderr is exactly one line').to.have.length(2);
    for (const n of names) expect(r.err, 'stderr names the culprit').to.contain(n);
    const [, hint] = r.err.split(' — ');
    expect(hint, `stderr carries a fix after " — ": ${r.err}`).to.be.a('string');
    if (typeof fix === 'string') expect(hint).to.contain(fix);
    else expect(hint).to.match(fix);
  }

  /** Exit `code` with the service's own message kept on one line. */
  function expectRefused(r: Run, code: number, serviceMessage: string | RegExp, attempts = 1): void {
    expect(r.code, `exit code (stderr: ${r.err})`).to.equal(code);
    expect(r.requests, 'requests made').to.have.length(attempts);
    expect(r.err.split('\n'), `stderr is one line: ${r.err}`).to.have.length(2);
    if (typeof serviceMessage === 'string') expect(r.err).to.contain(serviceMessage);
    else expect(r.err).to.match(serviceMessage);
  }

  describe('key material', () => {
    for (const kind of ['rsa', 'ec'] as const) {
      const alg = kind === 'rsa' ? 'AWS4-X509-RSA-SHA256' : 'AWS4-X509-ECDSA-SHA256';
      it(`${kind.toUpperCase()}: a leaf under an intermediate with --intermediates gets credentials`, async () => {
        const r = await run([...args(), ...key(`${kind}-leaf`), '--intermediates', f[`${kind}-leaf.chain`]!]);
        expectIssued(r);
        expect(w.emulator.issued.at(-1)!.serial).to.equal(BigInt(`0x${w[kind].leaf.cert.serialNumber}`).toString());
      });
      it(`${kind.toUpperCase()}: the same leaf without its intermediate is refused as untrusted (exit 3)`, async () => {
        const r = await run([...args(), ...key(`${kind}-leaf`)]);
        expectRefused(r, EXIT.DENIED, /AccessDenied/);
        expect(r.requests[0]!.reason).to.equal('CHAIN_UNTRUSTED');
      });
      it(`${kind.toUpperCase()}: a leaf directly under the root gets credentials`, async () => {
        expectIssued(await run([...args(), ...key(`${kind}-direct`)]));
      });
      it(`${kind.toUpperCase()}: a chain included in the certificate PEM is sent as the intermediates`, async () => {
        expectIssued(await run([...args(), '--certificate', f[`${kind}-fullchain.crt`]!, '--private-key', f[`${kind}-leaf.key`]!]));
      });
      it(`${kind.toUpperCase()}: --debug prints the canonical request and the string to sign with ${alg}, and no secret`, async () => {
        const r = await run([...args(), ...key(`${kind}-direct`), '--debug']);
        expect(r.code, r.err).to.equal(EXIT.OK);
        const canonical = /\[debug\] canonical request:\n([\s\S]*?)\n\[debug\] /.exec(r.err)?.[1];
        const toSign = /\[debug\] string to sign:\n([\s\S]*?)\n\[debug\] /.exec(r.err)?.[1];
        expect(canonical, `canonical request on stderr:\n${r.err}`).to.be.a('string');
        expect(toSign, `string to sign on stderr:\n${r.err}`).to.be.a('string');
        expect(canonical!.split('\n')[0]).to.equal('POST');
        expect(canonical).to.contain('x-amz-x509:');
        const lines = toSign!.split('\n');
        expect(lines[0]).to.equal(alg);
        expect(lines[2]).to.match(/^\d{8}\/us-east-1\/rolesanywhere\/aws4_request$/);
        expect(lines[3], 'the string to sign ends with the hash of the printed canonical request').to.equal(
          createHash('sha256').update(canonical!).digest('hex'),
        );
        // The afterEach checks the issued secret and token are absent; the body shows they were issued.
        expect(w.emulator.issued.at(-1)!.secretAccessKey, 'a secret was issued').to.have.length(40);
      });
    }

    describe('encrypted PKCS#8', () => {
      it('reads the password from --private-key-password-file', async () => {
        expectIssued(
          await run([...args(), '--certificate', f['rsa-leaf.crt']!, '--private-key', f['rsa-enc.key']!, '--intermediates', f['rsa-leaf.chain']!, '--private-key-password-file', f['password']!]),
        );
      });
      it('reads the password from --private-key-password-env', async () => {
        const r = await run([...args(), '--certificate', f['ec-direct.crt']!, '--private-key', f['ec-enc.key']!, '--private-key-password-env', 'KEY_PW'], { KEY_PW: KEY_PASSWORD });
        expectIssued(r);
      });
      it('takes --pkcs8-password with a warning about the process list on stderr', async () => {
        const r = await run([...args(), '--certificate', f['ec-direct.crt']!, '--private-key', f['ec-enc.key']!, '--pkcs8-password', KEY_PASSWORD]);
        expect(r.code, r.err).to.equal(EXIT.OK);
        expect(r.err).to.match(/^rolesanywhere-agent credential-process: warning: --pkcs8-password puts the password in the process list; prefer --private-key-password-file or --private-key-password-env\n$/);
        expectIssued(r, { stderr: r.err });
      });
    });

    describe('PKCS#12 (--certificate bundle, no --private-key)', () => {
      it('reads a password-protected RSA bundle with --private-key-password-file', async () => {
        expectIssued(await run([...args(), '--certificate', f['rsa-pw.p12']!, '--private-key-password-file', f['p12-password']!]));
      });
      it('reads an EC bundle with an empty password and no password flag', async () => {
        expectIssued(await run([...args(), '--certificate', f['ec-nopw.p12']!]));
      });
      it('reads an unencrypted bundle (-keypbe NONE -certpbe NONE)', async () => {
        expectIssued(await run([...args(), '--certificate', f['ec-plain.p12']!]));
      });
      it('sends the intermediate a bundle carries (the trust anchor holds only the root)', async () => {
        expectIssued(await run([...args(), '--certificate', f['rsa-chain.p12']!, '--private-key-password-env', 'P12'], { P12: P12_PASSWORD }));
      });
    });
  });

  describe('session and endpoint flags', () => {
    it('--role-session-name reaches the service', async () => {
      const r = await run([...args(), ...key('ec-direct'), '--role-session-name', 'ci-job.42@example']);
      expectIssued(r);
      expect(w.emulator.issued.at(-1)!.roleSessionName).to.equal('ci-job.42@example');
    });
    it('--session-duration sets how long the credentials live', async () => {
      const started = Date.now();
      const out = expectIssued(await run([...args(), ...key('ec-direct'), '--session-duration', '900']));
      const lifetime = Date.parse(out['Expiration'] as string) - started;
      expect(lifetime, 'ms until expiry').to.be.within(898_000, 902_000);
    });
    it('without --session-duration the credentials live an hour', async () => {
      const started = Date.now();
      const out = expectIssued(await run([...args(), ...key('ec-direct')]));
      expect(Date.parse(out['Expiration'] as string) - started, 'ms until expiry').to.be.within(3_598_000, 3_602_000);
    });
    it('--region us-east-1 (the trust anchor\'s) signs for that region', async () => {
      expectIssued(await run([...args(), ...key('rsa-direct'), '--region', 'us-east-1']));
    });
    it('--region sets the signing region: eu-west-1 is refused by the emulator for a us-east-1 trust anchor (exit 3)', async () => {
      const r = await run([...args(), ...key('rsa-direct'), '--region', 'eu-west-1']);
      expectRefused(r, EXIT.DENIED, "the signature is scoped to 'eu-west-1'");
      expect(r.requests[0]!.reason).to.equal('SCOPE_REGION_MISMATCH');
    });
    it('AWS_ENDPOINT_URL_ROLESANYWHERE stands in for --endpoint', async () => {
      expectIssued(await run([...args({ endpoint: null }), ...key('ec-direct')], { AWS_ENDPOINT_URL_ROLESANYWHERE: w.emulator.httpsUrl! }));
    });
    it('AWS_ENDPOINT_URL serves when AWS_ENDPOINT_URL_ROLESANYWHERE is absent', async () => {
      expectIssued(await run([...args({ endpoint: null }), ...key('ec-direct')], { AWS_ENDPOINT_URL: w.emulator.httpsUrl! }));
    });
    it('AWS_ENDPOINT_URL_ROLESANYWHERE wins over AWS_ENDPOINT_URL', async () => {
      const port = await closedPort();
      const env = { AWS_ENDPOINT_URL_ROLESANYWHERE: w.emulator.httpsUrl!, AWS_ENDPOINT_URL: `https://127.0.0.1:${port}` };
      expectIssued(await run([...args({ endpoint: null }), ...key('ec-direct')], env));
    });
    it('--endpoint wins over AWS_ENDPOINT_URL_ROLESANYWHERE', async () => {
      const port = await closedPort();
      expectIssued(await run([...args(), ...key('ec-direct')], { AWS_ENDPOINT_URL_ROLESANYWHERE: `https://127.0.0.1:${port}` }));
    });
    it('a plain http:// loopback endpoint (the emulator\'s --http-port) gets credentials', async () => {
      expectIssued(await run([...args({ endpoint: w.emulator.httpUrl!, ca: null }), ...key('rsa-direct')]));
    });
    it('AWS_CA_BUNDLE stands in for --ca-bundle', async () => {
      expectIssued(await run([...args({ ca: null }), ...key('rsa-direct')], { AWS_CA_BUNDLE: w.caBundle }));
    });
  });

  describe('bad input: exit 2, one line naming the file and the fix, no request', () => {
    it('a key that does not match the certificate', async () => {
      const r = await run([...args(), '--certificate', f['rsa-direct.crt']!, '--private-key', f['rsa-leaf.key']!]);
      expectBadInput(r, [f['rsa-direct.crt']!, f['rsa-leaf.key']!, 'does not match'], 'point private_key at the key this certificate was issued for');
    });
    it('an expired leaf', async () => {
      expectBadInput(await run([...args(), ...key('expired'), '--intermediates', f['expired.chain']!]), [f['expired.crt']!, 'expired'], 'renew it');
    });
    it('a leaf that is not valid yet', async () => {
      expectBadInput(await run([...args(), ...key('future'), '--intermediates', f['future.chain']!]), [f['future.crt']!, 'not valid until'], /clock/);
    });
    it('a CA:true leaf', async () => {
      expectBadInput(await run([...args(), ...key('ca-leaf'), '--intermediates', f['ca-leaf.chain']!]), [f['ca-leaf.crt']!, 'CA:TRUE'], 'CA:FALSE');
    });
    it('a leaf without the digitalSignature key usage', async () => {
      expectBadInput(await run([...args(), ...key('no-digsig'), '--intermediates', f['no-digsig.chain']!]), [f['no-digsig.crt']!, 'digitalSignature'], 'digitalSignature');
    });
    it('a SHA-1-signed leaf', async () => {
      expectBadInput(await run([...args(), ...key('sha1'), '--intermediates', f['sha1.chain']!]), [f['sha1.crt']!, 'SHA-1'], 'SHA-256');
    });
    it('intermediates that do not chain to the leaf', async () => {
      expectBadInput(await run([...args(), ...key('rsa-leaf'), '--intermediates', f['wrong-chain']!]), [f['wrong-chain']!, 'is not the issuer of'], /order the intermediates/);
    });
    it('a certificate file that does not exist', async () => {
      expectBadInput(await run([...args(), '--certificate', f['missing']!, '--private-key', f['rsa-leaf.key']!]), [f['missing']!, 'no such file'], 'check the path');
    });
    it('a certificate path that is a directory', async () => {
      expectBadInput(await run([...args(), '--certificate', f['unreadable-dir']!, '--private-key', f['rsa-leaf.key']!]), [f['unreadable-dir']!, 'directory'], 'check the path');
    });
    it('a malformed certificate PEM', async () => {
      expectBadInput(await run([...args(), '--certificate', f['garbage.crt']!, '--private-key', f['rsa-leaf.key']!]), [f['garbage.crt']!, 'not a valid X.509 certificate'], 'openssl x509');
    });
    it('a certificate file that is plain text', async () => {
      expectBadInput(await run([...args(), '--certificate', f['text.crt']!, '--private-key', f['rsa-leaf.key']!]), [f['text.crt']!], /BEGIN CERTIFICATE/);
    });
    it('a malformed private key PEM', async () => {
      expectBadInput(await run([...args(), '--certificate', f['rsa-leaf.crt']!, '--private-key', f['garbage.key']!]), [f['garbage.key']!], /./);
    });
    it('a private key file that does not exist', async () => {
      expectBadInput(await run([...args(), '--certificate', f['rsa-leaf.crt']!, '--private-key', f['missing']!]), [f['missing']!, 'private key file'], 'check the path');
    });
    it('an intermediates file that does not exist', async () => {
      expectBadInput(await run([...args(), ...key('rsa-leaf'), '--intermediates', f['missing']!]), [f['missing']!, 'intermediates file'], 'check the path');
    });
    it('an AWS_CA_BUNDLE that does not exist', async () => {
      expectBadInput(await run([...args({ ca: null }), ...key('rsa-direct')], { AWS_CA_BUNDLE: f['missing']! }), [f['missing']!, 'CA bundle'], 'AWS_CA_BUNDLE');
    });
    it('an HTTPS_PROXY that is not a proxy URL, its password not shown', async () => {
      const r = await run([...args(), ...key('rsa-direct')], { HTTPS_PROXY: 'http://alice:s3cret@' });
      expectBadInput(r, ['HTTPS_PROXY is not a proxy URL: "http://***@"'], 'set it to http://HOST:PORT');
      expect(r.err).not.to.contain('s3cret');
    });
    it('an HTTPS_PROXY whose password is not percent-encoding (%ZZ): bad input at start, not a network error at every call', async () => {
      const r = await run([...args(), ...key('rsa-direct')], { HTTPS_PROXY: 'http://alice:s3cret%ZZ@127.0.0.1:9' });
      expectBadInput(r, ['HTTPS_PROXY has a user or password that is not valid percent-encoding: "http://***@127.0.0.1:9"'], '%25');
      expect(r.err).not.to.contain('s3cret');
    });
    it('a missing --certificate and --role-arn', async () => {
      const a = args().filter((x, i, all) => x !== '--role-arn' && all[i - 1] !== '--role-arn');
      expectBadInput(await run([...a, '--private-key', f['rsa-leaf.key']!]), ['--certificate', '--role-arn'], '--help');
    });
    it('an unknown flag', async () => {
      expectBadInput(await run([...args(), ...key('rsa-direct'), '--bogus']), ['--bogus'], '--help');
    });
    it('a trust anchor ARN that is not an ARN', async () => {
      const a = args();
      a[1] = 'trust-anchor/11111111';
      expectBadInput(await run([...a, ...key('rsa-direct')]), ['trust_anchor_arn', 'trust-anchor/11111111'], 'rolesanywhere list-trust-anchors');
    });
    it('a role ARN of another service', async () => {
      expectBadInput(await run([...args({ role: 'arn:aws:s3:::bucket/role' }), ...key('rsa-direct')]), ['role_arn', 'the service must be iam'], 'IAM Roles Anywhere console');
    });
    it('a profile ARN in another region than the trust anchor', async () => {
      const r = await run([...args({ profile: PROFILE_ARN.replace('us-east-1', 'eu-west-1') }), ...key('rsa-direct')]);
      expectBadInput(r, ['--profile-arn', 'same partition and region'], 'IAM Roles Anywhere console');
    });
    for (const [duration, why] of [
      ['abc', 'is not a whole number of seconds'],
      ['1h', 'is not a whole number of seconds'],
      ['899', 'outside 900–43200'],
      ['43201', 'outside 900–43200'],
    ] as const) {
      it(`--session-duration ${duration}`, async () => {
        expectBadInput(await run([...args(), ...key('rsa-direct'), '--session-duration', duration]), [duration, why], /900|--session-duration 3600/);
      });
    }
    it('an invalid --role-session-name', async () => {
      expectBadInput(await run([...args(), ...key('rsa-direct'), '--role-session-name', 'has space']), ['"has space"'], '2–64 characters');
    });
    it('an encrypted key with the wrong password', async () => {
      const r = await run([...args(), '--certificate', f['rsa-leaf.crt']!, '--private-key', f['rsa-enc.key']!, '--intermediates', f['rsa-leaf.chain']!, '--private-key-password-file', f['wrong-password']!]);
      expectBadInput(r, [f['rsa-enc.key']!, 'wrong password'], 'check the password');
    });
    it('an encrypted key without a password', async () => {
      const r = await run([...args(), '--certificate', f['ec-direct.crt']!, '--private-key', f['ec-enc.key']!]);
      expectBadInput(r, [f['ec-enc.key']!, 'no password was given'], '--private-key-password-file');
    });
    it('a password variable that is not set', async () => {
      const r = await run([...args(), '--certificate', f['ec-direct.crt']!, '--private-key', f['ec-enc.key']!, '--private-key-password-env', 'NOT_SET_PW']);
      expectBadInput(r, ['NOT_SET_PW', 'is not set'], 'export NOT_SET_PW');
    });
    it('a password file that does not exist', async () => {
      const r = await run([...args(), '--certificate', f['ec-direct.crt']!, '--private-key', f['ec-enc.key']!, '--private-key-password-file', f['missing']!]);
      expectBadInput(r, [f['missing']!, 'password file'], 'check the path');
    });
    it('two password flags at once', async () => {
      const r = await run([...args(), '--certificate', f['ec-direct.crt']!, '--private-key', f['ec-enc.key']!, '--private-key-password-file', f['password']!, '--private-key-password-env', 'X'], { X: KEY_PASSWORD });
      expectBadInput(r, ['one way only'], '--private-key-password-file');
    });
    it('a PKCS#12 bundle with the wrong password', async () => {
      const r = await run([...args(), '--certificate', f['rsa-pw.p12']!, '--private-key-password-file', f['wrong-password']!]);
      expectBadInput(r, [f['rsa-pw.p12']!, 'wrong password'], 'check the password');
    });
    it('a PKCS#12 bundle without its password', async () => {
      expectBadInput(await run([...args(), '--certificate', f['rsa-pw.p12']!]), [f['rsa-pw.p12']!, 'no password was given'], '--private-key-password-env');
    });
    it('a PKCS#12 bundle with a --private-key beside it', async () => {
      const r = await run([...args(), '--certificate', f['ec-nopw.p12']!, '--private-key', f['ec-direct.key']!]);
      expectBadInput(r, [f['ec-nopw.p12']!, 'PKCS#12'], 'leave private_key (--private-key) out');
    });
  });

  describe('service refusals: exit 3 with the service message kept', () => {
    it('a role the profile does not list', async () => {
      const r = await run([...args({ role: OUTSIDER_ROLE }), ...key('ec-direct')]);
      expectRefused(r, EXIT.DENIED, `403 AccessDeniedException: Unable to assume role for ${OUTSIDER_ROLE}: the profile ${PROFILE_ARN} does not list it`);
      expect(r.requests[0]!.reason).to.equal('ROLE_NOT_IN_PROFILE');
    });
    it('the message names the role it is about', async () => {
      const r = await run([...args({ role: OUTSIDER_ROLE }), ...key('ec-direct')]);
      expect(r.err.startsWith(`${PREFIX}role ${OUTSIDER_ROLE}: CreateSession failed with 403 AccessDeniedException: `), r.err).to.equal(true);
    });
    it('a role that does not exist', async () => {
      const r = await run([...args({ role: roleArn('nobody') }), ...key('ec-direct')]);
      expectRefused(r, EXIT.DENIED, `Unable to assume role for ${roleArn('nobody')}: the role does not exist`);
    });
    it('a leaf from a PKI the trust anchor does not hold', async () => {
      const r = await run([...args(), ...key('stranger')]);
      expectRefused(r, EXIT.DENIED, /403 AccessDeniedException: .*untrusted/i);
      expect(r.requests[0]!.reason).to.equal('CHAIN_UNTRUSTED');
      expect(r.err, 'hint about the trust anchor').to.contain('trust anchor');
    });
    it('a roleSessionName the profile does not accept', async () => {
      const r = await run([...args({ profile: STRICT_PROFILE_ARN }), ...key('ec-direct'), '--role-session-name', 'custom-name']);
      expectRefused(r, EXIT.DENIED, '403 AccessDeniedException: Not authorized to set roleSessionName.');
      expect(r.requests[0]!.reason).to.equal('SESSION_NAME_NOT_ACCEPTED');
    });
    it('the same profile without --role-session-name issues credentials', async () => {
      expectIssued(await run([...args({ profile: STRICT_PROFILE_ARN }), ...key('ec-direct')]));
    });
    it('a ValidationException from the service', async () => {
      w.emulator.faults.failNext(1, 400, 'ValidationException', 'durationSeconds is out of range for this profile');
      const r = await run([...args(), ...key('ec-direct')]);
      expectRefused(r, EXIT.DENIED, '400 ValidationException: durationSeconds is out of range for this profile');
    });
  });

  describe('throttling, unavailability and retries', () => {
    it('throttled on every attempt exits 4 after 4 attempts', async () => {
      w.emulator.faults.failNext(4, 429, 'ThrottlingException', 'Rate exceeded');
      const r = await run([...args(), ...key('ec-direct')]);
      expectRefused(r, EXIT.THROTTLED, /429 ThrottlingException: Rate exceeded \(gave up after 4 attempts\)/, 4);
    });
    it('503 twice, then success: exit 0 after 3 attempts', async () => {
      w.emulator.faults.failNext(2, 503);
      const r = await run([...args(), ...key('ec-direct')]);
      expectIssued(r);
      expect(r.requests.map((q) => q.status)).to.deep.equal([503, 503, 201]);
    });
    it('503 on every attempt exits 5', async () => {
      w.emulator.faults.failNext(4, 503);
      expectRefused(await run([...args(), ...key('ec-direct')]), EXIT.UNAVAILABLE, /503 ServiceUnavailableException.*gave up after 4 attempts/, 4);
    });
    it('a dropped connection, then success: exit 0', async () => {
      w.emulator.faults.dropNext(1);
      const r = await run([...args(), ...key('rsa-direct')]);
      expectIssued(r);
      expect(r.requests.map((q) => q.reason ?? q.status)).to.deep.equal(['CONNECTION_DROPPED', 201]);
    });
    it('a closed port exits 5 after the retries', async () => {
      const port = await closedPort();
      const r = await run([...args({ endpoint: `https://127.0.0.1:${port}` }), ...key('ec-direct')]);
      expect(r.code, r.err).to.equal(EXIT.UNAVAILABLE);
      expect(r.err).to.match(new RegExp(`127\\.0\\.0\\.1:${port} failed: ECONNREFUSED.*gave up after 4 attempts`));
      expect(r.err.split('\n')).to.have.length(2);
    });
    it('TLS without the CA bundle exits 5 with a hint naming --ca-bundle, and no retry', async () => {
      const r = await run([...args({ ca: null }), ...key('ec-direct')]);
      expect(r.code, r.err).to.equal(EXIT.UNAVAILABLE);
      expect(r.err).to.match(/TLS connection to 127\.0\.0\.1:\d+ failed/);
      expect(r.err).to.contain('pass --ca-bundle');
      expect(r.err).not.to.contain('gave up');
      expect(r.requests, 'requests that got past the TLS handshake').to.deep.equal([]);
      expect(r.err.split('\n')).to.have.length(2);
    });
  });
});

/** A loopback port nobody listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
