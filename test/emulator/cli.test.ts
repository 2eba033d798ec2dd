import 'reflect-metadata';
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { emulatorCommand } from '../../src/cli/emulator.js';
import { EXIT, type CommandIO } from '../../src/cli/io.js';
import { ManualClock } from '../../src/time/clock.js';
import { makePki, type TestPki } from '../helpers/pki.js';
import { makeTempDir } from '../helpers/tmp.js';
import { PROFILE, ROLE, TA, hostOf, send, signRequest } from './support.js';

interface Harness {
  io: CommandIO;
  out: () => string;
  err: () => string;
  abort: () => void;
  /** Resolves with the stdout lines once `n` have been printed. */
  lines: (n: number) => Promise<string[]>;
}

function harness(clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000)): Harness {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => void (out += c.toString()));
  stderr.on('data', (c: Buffer) => void (err += c.toString()));
  const ac = new AbortController();
  const lines = (n: number): Promise<string[]> =>
    new Promise((resolve) => {
      const check = (): void => {
        const l = out.split('\n').filter(Boolean);
        if (l.length >= n) {
          stdout.off('data', check);
          resolve(l);
        }
      };
      stdout.on('data', check);
      check();
    });
  return {
    io: { stdout, stderr, env: {}, clock, signal: ac.signal, isTTY: false },
    out: () => out,
    err: () => err,
    abort: () => ac.abort(),
    lines,
  };
}

describe('emulator command', () => {
  let pki: TestPki;
  let tmp: ReturnType<typeof makeTempDir>;
  let caFile: string;

  before(async () => {
    pki = await makePki('ec');
  });
  beforeEach(() => {
    tmp = makeTempDir();
    caFile = join(tmp.dir, 'root.pem');
    writeFileSync(caFile, pki.root.certPem);
  });
  afterEach(() => tmp.cleanup());

  it('serves HTTP and HTTPS from quick flags, prints both URLs, writes the CA, and returns 0 when aborted', async () => {
    const h = harness();
    const caOut = join(tmp.dir, 'emulator-ca.pem');
    const run = emulatorCommand(['--trust-anchor', `${TA}=${caFile}`, '--profile', PROFILE, '--role', ROLE, '--write-ca', caOut], h.io);
    const [httpLine, httpsLine] = await h.lines(2);
    expect(httpLine).to.match(/^http http:\/\/127\.0\.0\.1:\d+$/);
    expect(httpsLine).to.match(/^https https:\/\/127\.0\.0\.1:\d+$/);
    const httpsUrl = httpsLine!.split(' ')[1]!;
    const reply = await send(
      httpsUrl,
      signRequest({ host: hostOf(httpsUrl), dateMs: h.io.clock.now(), leaf: pki.leaf, chain: [pki.intermediate] }),
      readFileSync(caOut, 'utf8'),
    );
    expect(reply.status, reply.text).to.equal(201);
    expect(h.err(), 'one request line on stderr').to.match(/POST \/sessions 201 serial=\d+ role=arn:aws:iam::111122223333:role\/app\/demo-role/);
    expect(h.err(), 'the request log never shows the secret').not.to.include(reply.json.credentialSet[0].credentials.secretAccessKey);
    h.abort();
    expect(await run).to.equal(EXIT.OK);
  });

  it('serves a config file on HTTP only when only --http-port is given, with faults from flags', async () => {
    const cfg = join(tmp.dir, 'emulator.yaml');
    writeFileSync(
      cfg,
      [
        'trustAnchors:',
        `  - arn: ${TA}`,
        '    certificateFiles: [root.pem]',
        'roles:',
        `  - arn: ${ROLE}`,
        `    trustAnchorArns: [${TA}]`,
        'profiles:',
        `  - arn: ${PROFILE}`,
        `    roleArns: [${ROLE}]`,
        '',
      ].join('\n'),
    );
    const h = harness();
    const run = emulatorCommand(['--config', cfg, '--http-port', '0', '--fail-next', '1:500'], h.io);
    const [line] = await h.lines(1);
    expect(line).to.match(/^http http:\/\/127\.0\.0\.1:\d+$/);
    const url = line!.split(' ')[1]!;
    const req = (): ReturnType<typeof send> => send(url, signRequest({ host: hostOf(url), dateMs: h.io.clock.now(), leaf: pki.directLeaf }));
    expect((await req()).status).to.equal(500);
    expect((await req()).status).to.equal(201);
    h.abort();
    expect(await run).to.equal(EXIT.OK);
    expect(h.out().split('\n').filter(Boolean), 'no https line').to.have.length(1);
    expect(h.err()).to.include('500 InternalServerException (FAULT_INJECTED)');
  });

  it('prints its usage for --help and returns 0', async () => {
    const h = harness();
    expect(await emulatorCommand(['--help'], h.io)).to.equal(EXIT.OK);
    expect(h.out()).to.include('Usage: rolesanywhere-agent emulator');
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['an unknown flag', ['--nope'], /Unknown option '--nope'/],
    ['nothing to serve', [], /nothing to serve/],
    ['a non-loopback host without --allow-remote', ['--host', '0.0.0.0', '--trust-anchor', `${TA}=x`], /not a loopback address.*--allow-remote/],
    ['a port out of range', ['--http-port', '70000', '--trust-anchor', `${TA}=x`], /--http-port "70000"/],
    ['a --trust-anchor without =file', ['--trust-anchor', TA, '--profile', PROFILE, '--role', ROLE], /must be ARN=ca-file\.pem/],
    ['a bad --fail-next', ['--fail-next', '2:200', '--trust-anchor', `${TA}=x`], /--fail-next "2:200"/],
    ['a missing config file', ['--config', '/nonexistent/emulator.yaml'], /cannot be read: ENOENT/],
  ];
  for (const [what, args, message] of bad) {
    it(`returns ${EXIT.BAD_INPUT} and says why for ${what}`, async () => {
      const h = harness();
      expect(await emulatorCommand(args, h.io)).to.equal(EXIT.BAD_INPUT);
      expect(h.err()).to.match(message);
      expect(h.out(), 'nothing on stdout').to.equal('');
    });
  }

  it('returns 2 for a bad ARN in the quick flags, naming the flag', async () => {
    const h = harness();
    expect(await emulatorCommand(['--trust-anchor', `${TA}=${caFile}`, '--profile', 'arn:aws:iam::1:role/x', '--role', ROLE], h.io)).to.equal(EXIT.BAD_INPUT);
    expect(h.err()).to.match(/--profile profiles\[0\]\.arn: .* is not a profile ARN/);
  });
});
