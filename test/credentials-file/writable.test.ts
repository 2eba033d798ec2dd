/**
 * validate's check that the credentials file's directory is writable, on a real read-only mount
 * (tmpfs mounted ro, and a read-only bind mount of a writable directory): `once` would fail there.
 * Needs root, as CI runs; mount(8) works in this sandbox.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkCredentialsFile, replaceProfiles } from '../../src/credentials-file/replace.js';
import { makeTempDir } from '../helpers/tmp.js';
import { catchAsync, creds, expectAgentError } from './helpers.js';

describe('checkCredentialsFile on a read-only file system', () => {
  let dir: string;
  let cleanup: () => void;
  const mounted: string[] = [];
  beforeEach(() => ({ dir, cleanup } = makeTempDir('ra-ro-')));
  afterEach(() => {
    while (mounted.length) spawnSync('umount', [mounted.pop()!]);
    cleanup();
  });

  it('refuses a directory on a read-only tmpfs, naming it and the fix, where a write would fail', async () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro, { mode: 0o700 });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m,mode=0700', 'tmpfs', ro]);
    mounted.push(ro);
    const file = join(ro, 'credentials');
    const e = expectAgentError(await catchAsync(checkCredentialsFile(file)), 'CREDENTIALS_FILE', ro, 'read-only file system');
    expect(e.hint).to.include('read-only');
    // What `once` meets there: the same place fails on write.
    expectAgentError(await catchAsync(replaceProfiles(file, [{ profile: 'dev', credentials: creds('dev', 1) }])), 'CREDENTIALS_FILE', 'read-only');
  });

  it('refuses an existing file under a read-only bind mount, and accepts the same directory writable', async () => {
    const src = join(dir, 'src');
    mkdirSync(src, { mode: 0o700 });
    writeFileSync(join(src, 'credentials'), '[a]\nk = v\n', { mode: 0o600 });
    await checkCredentialsFile(join(src, 'credentials'));
    const ro = join(dir, 'ro');
    mkdirSync(ro, { mode: 0o700 });
    execFileSync('mount', ['--bind', src, ro]);
    mounted.push(ro);
    execFileSync('mount', ['-o', 'remount,bind,ro', ro]);
    expectAgentError(await catchAsync(checkCredentialsFile(join(ro, 'credentials'))), 'CREDENTIALS_FILE', 'not writable', 'read-only file system');
  });

  it('checks the parent when the file\'s own directory is still to be created', async () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro, { mode: 0o700 });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m,mode=0700', 'tmpfs', ro]);
    mounted.push(ro);
    expectAgentError(await catchAsync(checkCredentialsFile(join(ro, '.aws', 'credentials'))), 'CREDENTIALS_FILE', `directory ${ro} is not writable`);
  });
});
