import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../cli/built-cli.js';
import { pathWithout, runScript } from '../packaging/helpers.js';
import { allPackages, MissingPrerequisite, missingTools, TOOLS } from './prerequisites.js';
import { makeTempDir } from './tmp.js';

describe('test prerequisites', function () {
  this.timeout(60_000);

  it('test/setup.sh installs every Debian package the tests name', () => {
    const listed = execFileSync('sh', [join(ROOT, 'test', 'setup.sh'), '--list'], { encoding: 'utf8' }).trim().split(/\s+/);
    expect(allPackages().filter((p) => !listed.includes(p)), 'named by test/helpers/prerequisites.ts but not installed by test/setup.sh').to.deep.equal([]);
    expect(listed.filter((p) => !allPackages().includes(p)), 'installed by test/setup.sh but named by no test').to.deep.equal([]);
  });

  it('a missing tool is one line naming the package, with no stack', () => {
    const e = new MissingPrerequisite('missing x: apt-get install -y x');
    expect(e.stack).to.equal('MissingPrerequisite: missing x: apt-get install -y x');
    expect(Object.keys(TOOLS)).to.include('openssl');
    expect(missingTools('openssl'), 'openssl is installed here').to.equal(undefined);
  });

  it('a test that needs a missing tool fails in mocha with that one line, never a diff', async () => {
    const { dir, cleanup } = makeTempDir('ra-prereq-');
    try {
      const path = pathWithout(join(dir, 'bin'), ['openssl']);
      const mocha = join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
      const r = await runScript(process.execPath, [mocha, '--no-config', '--node-option', 'import=tsx', '--reporter', 'spec', 'test/helpers/fixtures/missing-tool.fixture.ts'], { PATH: path, HOME: dir }, { timeoutMs: 55_000 });
      const out = `${r.stdout}${r.stderr}`;
      expect(r.code, out).to.equal(1);
      const failure = out.slice(out.indexOf('1) a test that needs openssl'));
      const lines = failure.split('\n').map((l) => l.trim()).filter(Boolean);
      expect(lines.slice(1), 'the failure report').to.deep.equal([
        '"before all" hook for "compares what openssl prints":',
        "MissingPrerequisite: missing the openssl command: apt-get install -y openssl (npm run test:setup installs everything the tests need)",
      ]);
    } finally {
      cleanup();
    }
  });
});
