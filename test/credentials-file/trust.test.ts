/**
 * The path-trust rule against a real second user: the tests run as root (as CI does), create a user
 * with useradd, and give files and directories to that user with chown — the "other user" never
 * runs anything; root, the agent here, must refuse what that user could have planted.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readState, writeState, type StateFile } from '../../src/agent/state-file.js';
import { checkCredentialsFile, replaceProfiles } from '../../src/credentials-file/replace.js';
import { resolveTrust, walkTrusted } from '../../src/credentials-file/trust.js';
import { makeTempDir } from '../helpers/tmp.js';
import { catchAsync, creds, expectAgentError } from './helpers.js';

const up = (profile: string, gen: number) => [{ profile, credentials: creds(profile, gen) }];
const SECRET = creds('dev', 1).secretAccessKey;

/** A throwaway user for the test run; removed afterwards. */
function makeUser(): { name: string; uid: number; gid: number; remove: () => void } {
  const name = `ra14-${randomBytes(3).toString('hex')}`;
  execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
  return { name, uid, gid, remove: () => void spawnSync('userdel', [name]) };
}

describe('path trust (credentials file, lock, temps, state file)', function () {
  this.timeout(20_000);
  let user: ReturnType<typeof makeUser>;
  let dir: string;
  let cleanup: () => void;
  before(function () {
    expect(process.geteuid?.(), 'these tests run as root, as CI does').to.equal(0);
    user = makeUser();
  });
  after(() => user?.remove());
  beforeEach(() => ({ dir, cleanup } = makeTempDir('ra-trust-')));
  afterEach(() => cleanup());

  /** A world-writable sticky directory like /tmp, owned by root. */
  function sticky(): string {
    const d = join(dir, 'shared-tmp');
    mkdirSync(d);
    chmodSync(d, 0o1777);
    return d;
  }

  describe('in a sticky world-writable directory (root writing)', () => {
    it('refuses a file another user pre-created there, and writes no credentials into it', async () => {
      const t = sticky();
      const file = join(t, 'credentials');
      writeFileSync(file, '[other]\nk = v\n', { mode: 0o666 });
      chownSync(file, user.uid, user.gid);
      const e = expectAgentError(await catchAsync(replaceProfiles(file, up('dev', 1))), 'CREDENTIALS_PATH_UNTRUSTED', file, `uid ${user.uid}`);
      expect(e.hint, 'hint names the fix').to.include('credentials_file_owner');
      expect(readFileSync(file, 'utf8'), 'their file untouched').to.equal('[other]\nk = v\n');
      expect(readdirSync(t).sort(), 'no temp or lock left').to.deep.equal(['credentials']);
    });

    it('refuses a symbolic link another user planted to a file of theirs (which protected_symlinks=0 would let the kernel follow)', async () => {
      const t = sticky();
      const theirs = join(dir, 'theirs');
      writeFileSync(theirs, '');
      chownSync(theirs, user.uid, user.gid);
      const file = join(t, 'credentials');
      symlinkSync(theirs, file);
      lchownSync(file, user.uid, user.gid);
      expectAgentError(await catchAsync(replaceProfiles(file, up('dev', 1))), 'CREDENTIALS_PATH_UNTRUSTED', 'symbolic link', file, `uid ${user.uid}`);
      expect(readFileSync(theirs, 'utf8'), 'no credentials handed over').to.equal('');
    });

    it('refuses their symbolic link to an INI-like root file (like /etc/fstab): no credentials appended, mode unchanged', async () => {
      const t = sticky();
      const etc = join(dir, 'etc');
      mkdirSync(etc, { mode: 0o755 });
      const fstab = join(etc, 'fstab');
      writeFileSync(fstab, '[x]\ny = z\n', { mode: 0o644 });
      const file = join(t, 'credentials');
      symlinkSync(fstab, file);
      lchownSync(file, user.uid, user.gid);
      expectAgentError(await catchAsync(replaceProfiles(file, up('dev', 1))), 'CREDENTIALS_PATH_UNTRUSTED', file);
      expect(readFileSync(fstab, 'utf8')).to.equal('[x]\ny = z\n');
      expect(statSync(fstab).mode & 0o777, 'mode').to.equal(0o644);
    });

    it('refuses their dangling symbolic link, creating nothing at its target', async () => {
      const t = sticky();
      const file = join(t, 'credentials');
      const target = join(dir, 'nowhere', 'deep', 'creds');
      symlinkSync(target, file);
      lchownSync(file, user.uid, user.gid);
      expectAgentError(await catchAsync(replaceProfiles(file, up('dev', 1))), 'CREDENTIALS_PATH_UNTRUSTED', file);
      expect(existsSync(join(dir, 'nowhere')), 'no directory created').to.equal(false);
    });

    it('refuses a directory on the path that another user owns (they could swap what is below)', async () => {
      const t = sticky();
      const theirDir = join(t, 'aws');
      mkdirSync(theirDir, { mode: 0o700 });
      chownSync(theirDir, user.uid, user.gid);
      const file = join(theirDir, 'credentials');
      expectAgentError(await catchAsync(replaceProfiles(file, up('dev', 1))), 'CREDENTIALS_PATH_UNTRUSTED', theirDir, `uid ${user.uid}`);
      expect(readdirSync(theirDir)).to.deep.equal([]);
    });

    it('accepts its own directory in the sticky one (what mkdtemp gives under /tmp) and its own file there', async () => {
      const t = sticky();
      mkdirSync(join(t, 'mine'), { mode: 0o700 });
      const file = join(t, 'mine', 'credentials');
      await replaceProfiles(file, up('dev', 1));
      expect(readFileSync(file, 'utf8')).to.include(SECRET);
      const direct = join(t, 'credentials');
      await replaceProfiles(direct, up('dev', 1));
      expect(statSync(direct).uid, 'owned by the agent').to.equal(0);
    });

    it('refuses a lock file another user planted', async () => {
      const t = sticky();
      const file = join(t, 'credentials');
      writeFileSync(`${file}.lock`, '{}');
      chownSync(`${file}.lock`, user.uid, user.gid);
      expectAgentError(await catchAsync(replaceProfiles(file, up('dev', 1))), 'CREDENTIALS_PATH_UNTRUSTED', `${file}.lock`, `uid ${user.uid}`);
    });
  });

  describe('directory modes', () => {
    it('refuses a group- or world-writable directory, naming its mode and the fix', async () => {
      const open = join(dir, 'open');
      mkdirSync(open);
      chmodSync(open, 0o777);
      const e = expectAgentError(await catchAsync(replaceProfiles(join(open, 'credentials'), up('dev', 1))), 'CREDENTIALS_PATH_UNTRUSTED', open, '0777');
      expect(e.hint).to.include('credentials_dir_shared').and.include('chmod go-w');
      chmodSync(open, 0o775);
      chownSync(open, 0, user.gid); // a group with another user in it
      expectAgentError(await catchAsync(replaceProfiles(join(open, 'credentials'), up('dev', 1))), 'CREDENTIALS_PATH_UNTRUSTED', '0775', 'group');
    });

    it('accepts a group-writable directory whose group is its owner\'s private group (umask 002), and not once another user joins it', async () => {
      // Debian and Ubuntu give each user a group of their own and umask 002: `git clone` and
      // `aws configure` make 0775 directories there. Nobody else can write them.
      const home = join(dir, 'home');
      mkdirSync(home);
      chownSync(home, user.uid, user.gid);
      chmodSync(home, 0o775);
      const file = join(home, 'credentials');
      await replaceProfiles(file, up('dev', 1), { trust: { owner: user.uid } });
      expect(readFileSync(file, 'utf8')).to.include(SECRET);
      const other = makeUser();
      try {
        execFileSync('usermod', ['-a', '-G', user.name, other.name]);
        expectAgentError(await catchAsync(replaceProfiles(file, up('dev', 2), { trust: { owner: user.uid } })), 'CREDENTIALS_PATH_UNTRUSTED', '0775', 'group');
      } finally {
        other.remove();
      }
    });

    it('accepts the file\'s own directory shared on purpose (a Kubernetes emptyDir, 0777) only with credentials_dir_shared, and no directory above it', async () => {
      const emptyDir = join(dir, 'pod', 'aws');
      mkdirSync(emptyDir, { recursive: true });
      chmodSync(emptyDir, 0o777);
      const file = join(emptyDir, 'credentials');
      await replaceProfiles(file, up('dev', 1), { trust: { sharedDir: true } });
      expect(readFileSync(file, 'utf8')).to.include(SECRET);
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      chmodSync(join(dir, 'pod'), 0o777);
      expectAgentError(await catchAsync(replaceProfiles(file, up('dev', 2), { trust: { sharedDir: true } })), 'CREDENTIALS_PATH_UNTRUSTED', join(dir, 'pod'));
    });

    it('in a shared directory, refuses a symbolic link even of a trusted user (anyone could swap it between look and use)', async () => {
      const shared = join(dir, 'shared');
      mkdirSync(shared);
      chmodSync(shared, 0o777);
      writeFileSync(join(dir, 'real'), '', { mode: 0o600 });
      symlinkSync(join(dir, 'real'), join(shared, 'credentials'));
      expectAgentError(await catchAsync(replaceProfiles(join(shared, 'credentials'), up('dev', 1), { trust: { sharedDir: true } })), 'CREDENTIALS_PATH_UNTRUSTED', 'shared directory');
    });
  });

  describe('creating directories', () => {
    it('creates only the file\'s own directory (~/.aws, 0700), never the ones above, and says what to create', async () => {
      const home = join(dir, 'home');
      const file = join(home, '.aws', 'credentials');
      const e = expectAgentError(await catchAsync(replaceProfiles(file, up('dev', 1))), 'CREDENTIALS_PATH_UNTRUSTED', home, 'does not exist');
      expect(e.hint).to.include('create it');
      expect(existsSync(home), 'nothing created').to.equal(false);
      mkdirSync(home, { mode: 0o755 });
      await replaceProfiles(file, up('dev', 1));
      expect(statSync(join(home, '.aws')).mode & 0o777).to.equal(0o700);
    });

    it('does not create the directory a dangling link of its own points into', async () => {
      symlinkSync(join(dir, 'gone', 'creds'), join(dir, 'credentials'));
      expectAgentError(await catchAsync(replaceProfiles(join(dir, 'credentials'), up('dev', 1))), 'CREDENTIALS_PATH_UNTRUSTED', join(dir, 'gone'));
      expect(existsSync(join(dir, 'gone'))).to.equal(false);
    });
  });

  describe('root writing a user\'s file (credentials_file_owner)', () => {
    function userHome(): { aws: string; file: string } {
      const home = join(dir, 'home-user');
      const aws = join(home, '.aws');
      mkdirSync(aws, { recursive: true, mode: 0o700 });
      chmodSync(home, 0o750);
      chownSync(home, user.uid, user.gid);
      chownSync(aws, user.uid, user.gid);
      const file = join(aws, 'credentials');
      writeFileSync(file, '[mine]\nk = v\n', { mode: 0o600 });
      chownSync(file, user.uid, user.gid);
      return { aws, file };
    }

    it('refuses the user\'s directory unless the user is named, then writes the file and leaves it theirs', async () => {
      const { file } = userHome();
      expectAgentError(await catchAsync(replaceProfiles(file, up('dev', 1))), 'CREDENTIALS_PATH_UNTRUSTED', `uid ${user.uid}`);
      for (const owner of [user.name, user.uid]) {
        await replaceProfiles(file, up('dev', 1), { trust: { owner } });
        const st = statSync(file);
        expect([st.uid, st.gid, st.mode & 0o777], `owner ${owner}: uid, gid, mode`).to.deep.equal([user.uid, user.gid, 0o600]);
        expect(readFileSync(file, 'utf8')).to.include('[mine]').and.include(SECRET);
      }
    });

    it('gives the state file to the named user too, so their own status can read it', async () => {
      const { file } = userHome();
      await writeState(file, { version: 1, pid: 1, command: 'run', updatedAt: new Date(0).toISOString(), profiles: [] }, { trust: { owner: user.name } });
      const st = statSync(`${file}.agent-state.json`);
      expect([st.uid, st.gid, st.mode & 0o777]).to.deep.equal([user.uid, user.gid, 0o600]);
    });

    it('gives a new file to the named user', async () => {
      const { aws, file } = userHome();
      const fresh = join(aws, 'other');
      await replaceProfiles(fresh, up('dev', 1), { trust: { owner: user.name } });
      expect([statSync(fresh).uid, statSync(fresh).gid]).to.deep.equal([user.uid, user.gid]);
      expect(existsSync(file)).to.equal(true);
    });

    it('refuses a root-owned file the named user\'s link points at (they cannot steer root\'s writes out of their directories)', async () => {
      const { file } = userHome();
      const rootDir = join(dir, 'rootonly');
      mkdirSync(rootDir, { mode: 0o755 });
      const victim = join(rootDir, 'pam.conf');
      writeFileSync(victim, '[a]\n', { mode: 0o644 });
      const link = join(file, '..', 'link');
      symlinkSync(victim, link);
      lchownSync(link, user.uid, user.gid);
      expectAgentError(await catchAsync(replaceProfiles(link, up('dev', 1), { trust: { owner: user.name } })), 'CREDENTIALS_PATH_UNTRUSTED', 'reached through');
      expect(readFileSync(victim, 'utf8')).to.equal('[a]\n');
      const dangling = join(file, '..', 'dangling');
      symlinkSync(join(rootDir, 'new-file'), dangling);
      lchownSync(dangling, user.uid, user.gid);
      expectAgentError(await catchAsync(replaceProfiles(dangling, up('dev', 1), { trust: { owner: user.name } })), 'CREDENTIALS_PATH_UNTRUSTED');
      expect(existsSync(join(rootDir, 'new-file')), 'nothing created in root\'s directory').to.equal(false);
    });

    it('refuses an unknown user name, and an owner a non-root agent cannot write for', async () => {
      expectAgentError(await catchAsync(resolveTrust({ owner: 'no-such-user-ra14' })), 'CREDENTIALS_PATH_UNTRUSTED', 'no-such-user-ra14');
      expectAgentError(await catchAsync(resolveTrust({ uid: 1000, owner: 1001 })), 'CREDENTIALS_PATH_UNTRUSTED', 'only root');
    });
  });

  describe('validate (checkCredentialsFile)', () => {
    it('applies the same rule without writing', async () => {
      const t = sticky();
      const file = join(t, 'credentials');
      writeFileSync(file, '');
      chownSync(file, user.uid, user.gid);
      expectAgentError(await catchAsync(checkCredentialsFile(file)), 'CREDENTIALS_PATH_UNTRUSTED', file);
      await checkCredentialsFile(join(dir, 'missing-dir', 'credentials'));
      expect(existsSync(join(dir, 'missing-dir')), 'validate creates nothing').to.equal(false);
    });
  });

  describe('the state file', () => {
    const state: StateFile = { version: 1, pid: 1, command: 'run', updatedAt: '2026-01-01T00:00:00.000Z', profiles: [], http: { url: 'http://127.0.0.1:1' } };

    it('is ignored, with the reason, when another user wrote it (status would follow its http.url)', async () => {
      const file = join(dir, 'credentials');
      writeFileSync(`${file}.agent-state.json`, JSON.stringify(state));
      chownSync(`${file}.agent-state.json`, user.uid, user.gid);
      const why: string[] = [];
      expect(await readState(file, 'run', { onIgnored: (m) => why.push(m) })).to.equal(undefined);
      expect(why.join(' ')).to.include(`uid ${user.uid}`);
      chownSync(`${file}.agent-state.json`, 0, 0);
      expect((await readState(file))?.http, 'its own state is read').to.deep.equal({ url: 'http://127.0.0.1:1' });
    });

    it('is not written through a symbolic link another user planted', async () => {
      const t = sticky();
      const file = join(t, 'credentials');
      const theirs = join(dir, 'theirs');
      writeFileSync(theirs, '');
      symlinkSync(theirs, `${file}.agent-state.json`);
      lchownSync(`${file}.agent-state.json`, user.uid, user.gid);
      expectAgentError(await catchAsync(writeState(file, state)), 'CREDENTIALS_PATH_UNTRUSTED');
      expect(readFileSync(theirs, 'utf8')).to.equal('');
    });
  });

  it('walks a path of root-owned directories and a sticky /tmp like the tests\' own temp directories', async () => {
    const trust = await resolveTrust({});
    const w = await walkTrusted(join(dir, 'credentials'), trust);
    expect(w.path).to.equal(join(dir, 'credentials'));
    expect(lstatSync(dir).uid).to.equal(0);
  });
});
