/**
 * The bundles of `credential-process` and `run` (packaging/bundle.mjs, the last step of `npm run
 * build`): the AWS CLI starts the first on every call, and one bundle loads faster than ~35
 * modules; the second peaks ~2 MB lower. main.js must run the bundles (so the commands' CLI tests
 * test them), a bundle must be the same command as the sources, and a tree compiled without them
 * must say how to fix it.
 */
import { expect } from 'chai';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { credentialProcessCommand } from '../../src/cli/credential-process.js';
import { captureIO } from '../helpers/io.js';
import { CREDENTIAL_PROCESS_BUNDLE, ROOT, ensureBuilt, runChild } from './built-cli.js';

describe('the command bundles (packaging/bundle.mjs)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => ensureBuilt());
  beforeEach(() => {
    // A copy of the built tree, to change its bundle without touching dist/.
    dir = mkdtempSync(join(tmpdir(), 'ra-bundle-'));
    cpSync(join(ROOT, 'dist', 'src'), join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is what main.js runs for credential-process', async () => {
    writeFileSync(join(dir, 'src', 'bundle', 'credential-process.js'), "export async function credentialProcessCommand(args, io) { io.stdout.write('the bundle ran: ' + args.join(' ') + '\\n'); return 0; }\n");
    const r = await runChild(process.execPath, [join(dir, 'src', 'main.js'), 'credential-process', '--help'], { PATH: process.env['PATH'] });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).to.deep.equal({ code: 0, stdout: 'the bundle ran: --help\n', stderr: '' });
  });

  it('is what main.js runs for run', async () => {
    writeFileSync(join(dir, 'src', 'bundle', 'run.js'), "export async function runCommand(args, io) { io.stdout.write('the run bundle ran: ' + args.join(' ') + '\\n'); return 0; }\n");
    const r = await runChild(process.execPath, [join(dir, 'src', 'main.js'), 'run', '--help'], { PATH: process.env['PATH'] });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).to.deep.equal({ code: 0, stdout: 'the run bundle ran: --help\n', stderr: '' });
  });

  it('is the same command as the sources: the same --help, and the same refusal of bad flags', async () => {
    const bundled = (await import(pathToFileURL(CREDENTIAL_PROCESS_BUNDLE).href)) as { credentialProcessCommand: typeof credentialProcessCommand };
    for (const args of [['--help'], ['--role-arn', 'x']]) {
      const fromBundle = captureIO();
      const fromSources = captureIO();
      const codes = [await bundled.credentialProcessCommand(args, fromBundle), await credentialProcessCommand(args, fromSources)];
      expect(codes[0], `exit code of ${args.join(' ')}`).to.equal(codes[1]);
      expect(fromBundle.out(), `stdout of ${args.join(' ')}`).to.equal(fromSources.out());
      expect(fromBundle.err(), `stderr of ${args.join(' ')}`).to.equal(fromSources.err());
    }
  });

  it('missing (a tree compiled by tsc alone): one line that names the file and `npm run build`, no stack', async () => {
    rmSync(join(dir, 'src', 'bundle'), { recursive: true });
    const r = await runChild(process.execPath, [join(dir, 'src', 'main.js'), 'credential-process', '--help'], { PATH: process.env['PATH'] });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.equal('rolesanywhere-agent: unexpected error: dist/src/bundle/credential-process.js is missing: this tree was compiled without the build\'s last step; run npm run build\n');
  });
});
