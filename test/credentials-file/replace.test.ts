import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseStrict } from '../../src/credentials-file/parse.js';
import { replaceProfiles } from '../../src/credentials-file/replace.js';
import { ManualClock } from '../../src/time/clock.js';
import { makeTempDir } from '../helpers/tmp.js';
import { errno, faultyFs, type Step } from './faulty-fs.js';
import { catchAsync, creds, expectAgentError, ownLines } from './helpers.js';

const ORIGINAL = '# my file\n[default]\naws_access_key_id = AKIASTATIC\naws_secret_access_key = static-secret\nregion = eu-west-1\n\n[dev]\naws_access_key_id = OLD\n';
const up = (profile: string, gen: number) => [{ profile, credentials: creds(profile, gen) }];

/** Everything in the directory but the credentials file itself. */
function litter(dir: string, file = 'credentials'): string[] {
  return readdirSync(dir).filter((n) => n !== file);
}

/** A secret that must never appear in an error message. */
const SECRETS = [creds('dev', 1).secretAccessKey, creds('dev', 1).sessionToken];
function noSecrets(message: string): void {
  for (const s of SECRETS) expect(message, 'message holds a secret').not.to.include(s);
}

describe('replaceProfiles', () => {
  let dir: string;
  let cleanup: () => void;
  let file: string;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir('ra-cf-replace-'));
    file = join(dir, 'credentials');
  });
  afterEach(() => cleanup());

  it('writes the profile, keeps the rest of the file, leaves mode 0600 and nothing else in the directory', async () => {
    writeFileSync(file, ORIGINAL, { mode: 0o600 });
    const r = await replaceProfiles(file, up('dev', 1));
    expect(readFileSync(file, 'utf8')).to.equal(ORIGINAL.replace('aws_access_key_id = OLD\n', ownLines('dev', 1)));
    expect(statSync(file).mode & 0o777, 'mode').to.equal(0o600);
    expect(litter(dir), 'temp or lock files left').to.deep.equal([]);
    expect(r).to.deep.include({ path: file, attempts: 1, durable: true });
    expect(r.warnings).to.deep.equal([]);
  });

  it('creates a missing parent directory with mode 0700 and the file with mode 0600', async () => {
    const nested = join(dir, 'home', '.aws', 'credentials');
    mkdirSync(join(dir, 'home'), { mode: 0o755 });
    await replaceProfiles(nested, up('dev', 1));
    expect(statSync(join(dir, 'home', '.aws')).mode & 0o777, '~/.aws mode').to.equal(0o700);
    expect(statSync(nested).mode & 0o777, 'file mode').to.equal(0o600);
    expect(readFileSync(nested, 'utf8')).to.equal('[dev]\n' + ownLines('dev', 1));
  });

  it('tightens a looser mode to 0600 and says so in a warning', async () => {
    writeFileSync(file, ORIGINAL);
    chmodSync(file, 0o644);
    const seen: string[] = [];
    const r = await replaceProfiles(file, up('dev', 1), { onWarning: (m) => seen.push(m) });
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    expect(seen).to.have.length(1);
    expect(seen[0]).to.include('0644').and.include(file);
    expect(r.warnings).to.deep.equal(seen);
  });

  it('refuses a file that starts with a byte order mark, which botocore cannot read, and leaves it untouched', async () => {
    writeFileSync(file, '\uFEFF[dev]\n', { mode: 0o600 });
    const warnings: string[] = [];
    // The refusal comes from the strict parse before any write: no temp file, no warning, no rename.
    const e = await replaceProfiles(file, up('dev', 1), { onWarning: (m) => warnings.push(m) }).then(() => undefined, (x: unknown) => x);
    expectAgentError(e, 'CREDENTIALS_FILE', file, 'byte order mark', 'sed -i');
    expect(readFileSync(file, 'utf8'), 'the file').to.equal('\uFEFF[dev]\n');
    expect(warnings, 'warnings').to.deep.equal([]);
    expect(litter(dir), 'files left beside it (the lock file only)').to.deep.equal(litter(dir).filter((n) => n.endsWith('.lock')));
  });

  it('keeps a symlinked file a symlink, replacing its target with the temp file in the target\'s directory', async () => {
    mkdirSync(join(dir, 'real'));
    const real = join(dir, 'real', 'creds');
    writeFileSync(real, ORIGINAL, { mode: 0o600 });
    symlinkSync('real/creds', file);
    const fs = faultyFs({});
    const r = await replaceProfiles(file, up('dev', 1), { fs });
    expect(lstatSync(file).isSymbolicLink(), 'still a symlink').to.equal(true);
    expect(readlinkSync(file)).to.equal('real/creds');
    expect(r.path).to.equal(real);
    expect(readFileSync(real, 'utf8')).to.include(ownLines('dev', 1));
    expect(fs.temps.every((t) => t.startsWith(join(dir, 'real') + '/')), `temps in ${fs.temps.join(', ')}`).to.equal(true);
    expect(litter(join(dir, 'real'), 'creds')).to.deep.equal([]);
  });

  it('follows a dangling symlink and creates its target', async () => {
    symlinkSync(join(dir, 'elsewhere'), file);
    await replaceProfiles(file, up('dev', 1));
    expect(lstatSync(file).isSymbolicLink()).to.equal(true);
    expect(readFileSync(join(dir, 'elsewhere'), 'utf8')).to.equal('[dev]\n' + ownLines('dev', 1));
  });

  it('gives the new file the old owner and group when they differ from the writer\'s (root writing a user\'s file)', async () => {
    writeFileSync(file, ORIGINAL, { mode: 0o600 });
    const fs = faultyFs({}, { fakeOwner: { uid: 4321, gid: 8765 } });
    await replaceProfiles(file, up('dev', 1), { fs, trust: { owner: 4321 } });
    expect(fs.chowns).to.deep.equal([[4321, 8765]]);
  });

  it('does not chown when the writer already owns the file', async () => {
    writeFileSync(file, ORIGINAL, { mode: 0o600 });
    const fs = faultyFs({});
    await replaceProfiles(file, up('dev', 1), { fs });
    expect(fs.chowns).to.deep.equal([]);
  });

  describe('when a filesystem step fails', () => {
    const failures: [Step, string, string][] = [
      ['temp-open', 'EACCES', 'permission denied'],
      ['temp-open', 'EROFS', 'read-only'],
      ['temp-chmod', 'EPERM', 'permission denied'],
      ['temp-stat', 'EIO', 'EIO'],
      ['temp-chown', 'EPERM', 'permission denied'],
      ['temp-write', 'ENOSPC', 'no space left'],
      ['temp-write', 'EDQUOT', 'quota'],
      ['temp-sync', 'EIO', 'EIO'],
      ['temp-close', 'EIO', 'EIO'],
      ['rename', 'EXDEV', 'EXDEV'],
      ['rename', 'EACCES', 'permission denied'],
      ['read-open', 'EACCES', 'permission denied'],
      ['lock-open', 'EROFS', 'read-only'],
    ];
    for (const [step, code, words] of failures) {
      it(`${step} failing with ${code} leaves the old file byte-identical and no temp file, and says what to fix`, async () => {
        writeFileSync(file, ORIGINAL, { mode: 0o600 });
        const before = readFileSync(file);
        const fs = faultyFs({ [step]: errno(code) }, step === 'temp-chown' ? { fakeOwner: { uid: 4321, gid: 4321 } } : {});
        const trust = step === 'temp-chown' ? { owner: 4321 } : {};
        const e = expectAgentError(await catchAsync(replaceProfiles(file, up('dev', 1), { fs, trust })), 'CREDENTIALS_FILE', file, words);
        expect(e.hint, 'hint').to.be.a('string').and.have.length.greaterThan(10);
        noSecrets(e.message + e.hint);
        expect(readFileSync(file).equals(before), 'old file byte-identical').to.equal(true);
        expect(litter(dir), 'left behind').to.deep.equal([]);
        expect(fs.steps, 'the failing step was reached').to.include(step);
      });
    }

    it('mkdir failing leaves nothing behind and names the directory', async () => {
      const nested = join(dir, 'sub', 'credentials');
      const fs = faultyFs({ mkdir: errno('EACCES') });
      expectAgentError(await catchAsync(replaceProfiles(nested, up('dev', 1), { fs })), 'CREDENTIALS_FILE', join(dir, 'sub'), 'permission denied');
      expect(readdirSync(dir)).to.deep.equal([]);
    });

    for (const step of ['dir-open', 'dir-sync'] as const) {
      it(`${step} failing after the rename still succeeds, with durable false and a warning (the new file is complete and in place)`, async () => {
        writeFileSync(file, ORIGINAL, { mode: 0o600 });
        const fs = faultyFs({ [step]: errno('EIO') });
        const r = await replaceProfiles(file, up('dev', 1), { fs });
        expect(r.durable).to.equal(false);
        expect(r.warnings.join(' ')).to.include('power loss').and.include(dir);
        expect(readFileSync(file, 'utf8')).to.include(ownLines('dev', 1));
        expect(litter(dir)).to.deep.equal([]);
      });
    }
  });

  describe('with bad input at the path', () => {
    const refusals: [string, () => void, string][] = [
      ['a directory', () => mkdirSync(file), 'is a directory'],
      ['binary garbage with NUL bytes', () => writeFileSync(file, Buffer.from([0x5b, 0x61, 0x5d, 0x0a, 0x00, 0xff, 0x10])), 'NUL'],
      ['invalid UTF-8', () => writeFileSync(file, Buffer.from([0x5b, 0x61, 0x5d, 0x0a, 0x6b, 0x3d, 0xc3, 0x28, 0x0a])), 'UTF-8'],
      ['a 50 MB file', () => {
        writeFileSync(file, '[a]\n');
        truncateSync(file, 50 * 1024 * 1024);
      }, '16 MiB'],
      ['a line over 64 KiB', () => writeFileSync(file, `[a]\nk = ${'x'.repeat(70 * 1024)}\n`), '64 KiB'],
      ['a FIFO', () => {
        const r = spawnSync('mkfifo', [file]);
        expect(r.status, 'mkfifo').to.equal(0);
      }, 'not a regular file'],
      ['a duplicate target section', () => writeFileSync(file, '[dev]\n[dev]\n'), 'line 2'],
      ['a layout the edit cannot keep (an indented header that would turn into a continuation)', () => writeFileSync(file, '[dev]\n  [z]\nk = v\n'), 'would not read back'],
    ];
    for (const [what, make, words] of refusals) {
      it(`refuses ${what}, naming the path and the fix, and leaves it as it was`, async () => {
        make();
        const before = lstatSync(file).isFile() && lstatSync(file).size < 1e6 ? readFileSync(file) : undefined;
        const e = await catchAsync(replaceProfiles(file, up('dev', 1)));
        const err = expectAgentError(e, what.includes('duplicate') ? 'CREDENTIALS_FILE_DUPLICATE' : 'CREDENTIALS_FILE', file, words);
        expect(err.hint, 'hint').to.be.a('string').and.have.length.greaterThan(10);
        noSecrets(err.message);
        if (before) expect(readFileSync(file).equals(before), 'byte-identical').to.equal(true);
        expect(litter(dir), 'left behind').to.deep.equal([]);
      });
    }

    it('refuses an invalid profile name before touching the disk', async () => {
      const fs = faultyFs({});
      expectAgentError(await catchAsync(replaceProfiles(file, [{ profile: 'a b', credentials: creds('x', 1) }], { fs })), 'ARGUMENT_INVALID');
      expect(fs.steps).to.deep.equal([]);
      expect(existsSync(file)).to.equal(false);
    });
  });

  describe('when another program edits the file meanwhile (without our lock)', () => {
    const foreignEdit = (f: string) => () => {
      // A plain read-modify-write with a rename, as an editor would do.
      const text = readFileSync(f, 'utf8').replace('region = eu-west-1', 'region = us-east-2\noutput = json');
      writeFileSync(`${f}.editor`, text);
      renameSync(`${f}.editor`, f);
    };

    // Every moment between our read and the rename, the last being just before the final check.
    for (const step of ['read-stat', 'temp-open', 'temp-chmod', 'temp-write', 'temp-sync', 'temp-close', 'rename'] as const) {
      it(`re-reads and re-edits after a foreign edit at ${step}, so the foreign edit and our profile both survive`, async () => {
        writeFileSync(file, ORIGINAL, { mode: 0o600 });
        const fs = faultyFs({ [step]: foreignEdit(file) }, { nth: { [step]: 1 } });
        const r = await replaceProfiles(file, up('dev', 1), { fs });
        const text = readFileSync(file, 'utf8');
        expect(text).to.include('region = us-east-2\noutput = json').and.include(ownLines('dev', 1));
        expect(r.attempts).to.equal(2);
        expect(litter(dir)).to.deep.equal([]);
        parseStrict(text);
      });
    }

    it('notices an in-place rewrite of the same size', async () => {
      writeFileSync(file, ORIGINAL, { mode: 0o600 });
      const fs = faultyFs({ 'temp-sync': () => writeFileSync(file, ORIGINAL.replace('eu-west-1', 'eu-west-9')) }, { nth: { 'temp-sync': 1 } });
      const r = await replaceProfiles(file, up('dev', 1), { fs });
      expect(readFileSync(file, 'utf8')).to.include('eu-west-9').and.include(ownLines('dev', 1));
      expect(r.attempts).to.equal(2);
    });

    it('notices a same-size rewrite that the timestamps do not show (coarse-timestamp file systems), by content', async () => {
      writeFileSync(file, ORIGINAL, { mode: 0o600 });
      const fs = faultyFs(
        { 'temp-sync': () => writeFileSync(file, ORIGINAL.replace('eu-west-1', 'eu-west-9')) },
        { nth: { 'temp-sync': 1 }, frozenTimes: true },
      );
      const r = await replaceProfiles(file, up('dev', 1), { fs });
      expect(readFileSync(file, 'utf8')).to.include('eu-west-9').and.include(ownLines('dev', 1));
      expect(r.attempts).to.equal(2);
    });

    it('gives up with a retryable error when the file changes on every attempt, leaving the last foreign version', async () => {
      writeFileSync(file, ORIGINAL, { mode: 0o600 });
      let n = 0;
      const fs = faultyFs({ 'temp-sync': () => writeFileSync(file, ORIGINAL + `# edit ${++n}\n`) });
      const e = expectAgentError(await catchAsync(replaceProfiles(file, up('dev', 1), { fs, maxAttempts: 3 })), 'CREDENTIALS_FILE', 'kept changing', file);
      expect(e.retryable).to.equal(true);
      expect(readFileSync(file, 'utf8')).to.equal(ORIGINAL + '# edit 3\n');
      expect(litter(dir)).to.deep.equal([]);
    });

    it('between two replaces, keeps a same-size rewrite of what it wrote (its own bytes are reused only when identical)', async () => {
      writeFileSync(file, ORIGINAL, { mode: 0o600 });
      await replaceProfiles(file, up('dev', 1));
      const ours = readFileSync(file, 'utf8');
      const theirs = ours.replace('eu-west-1', 'eu-west-9');
      expect(theirs.length, 'same size').to.equal(ours.length);
      writeFileSync(file, theirs);
      await replaceProfiles(file, up('qa', 1));
      expect(readFileSync(file, 'utf8')).to.equal(`${theirs}[qa]\n${ownLines('qa', 1)}`);
      // A file put back to what the agent wrote one replace earlier is edited as it is now, not as
      // the agent's last write.
      const before = readFileSync(file, 'utf8');
      await replaceProfiles(file, up('qa', 2));
      writeFileSync(file, before);
      await replaceProfiles(file, up('dev', 2));
      expect(readFileSync(file, 'utf8')).to.equal(before.replace(ownLines('dev', 1), ownLines('dev', 2)));
    });

    it('treats a file created meanwhile as a change', async () => {
      const fs = faultyFs({ 'temp-sync': () => writeFileSync(file, '[other]\nk = v\n') }, { nth: { 'temp-sync': 1 } });
      const r = await replaceProfiles(file, up('dev', 1), { fs });
      expect(readFileSync(file, 'utf8')).to.equal('[other]\nk = v\n[dev]\n' + ownLines('dev', 1));
      expect(r.attempts).to.equal(2);
    });
  });

  describe('the lock', () => {
    it('is held during the replace and removed afterwards', async () => {
      let seen = false;
      const fs = faultyFs({ 'temp-write': () => void (seen = existsSync(`${file}.lock`)) });
      await replaceProfiles(file, up('dev', 1), { fs });
      expect(seen, 'lock present while writing').to.equal(true);
      expect(existsSync(`${file}.lock`), 'lock removed').to.equal(false);
    });

    it('times out with CREDENTIALS_FILE_LOCKED naming the lock path when another live writer holds it', async () => {
      writeFileSync(file, ORIGINAL, { mode: 0o600 });
      const clock = new ManualClock(Date.UTC(2026, 0, 1));
      writeFileSync(`${file}.lock`, JSON.stringify({ pid: 999999, host: 'elsewhere', time: new Date(clock.now()).toISOString() }));
      const e = await catchAsync(
        replaceProfiles(file, up('dev', 1), { lock: { clock, timeoutMs: 2000, sleep: async (ms) => clock.advance(ms) } }),
      );
      const err = expectAgentError(e, 'CREDENTIALS_FILE_LOCKED', `${file}.lock`, 'pid 999999', 'elsewhere');
      expect(err.retryable).to.equal(true);
      expect(err.hint).to.include(`${file}.lock`);
      expect(readFileSync(file, 'utf8')).to.equal(ORIGINAL);
    });

    it('removes temp files left by a crashed writer once it holds the lock', async () => {
      writeFileSync(file, ORIGINAL, { mode: 0o600 });
      writeFileSync(join(dir, '.credentials.0123456789ab.tmp'), 'half a fi');
      writeFileSync(join(dir, 'credentials.lock.a1b2c3d4e5f6.tmp'), '{"pid":');
      writeFileSync(join(dir, '.credentials.notours.tmp'), 'not ours');
      await replaceProfiles(file, up('dev', 1));
      expect(litter(dir)).to.deep.equal(['.credentials.notours.tmp']);
    });
  });
});
