/**
 * Bounded reads sized by the file (issue 17, memory): readAtMost (lock, state file) and readBounded
 * (key material) no longer allocate their whole bound per read, and must still read a file that
 * grew after its size was taken, and still refuse one that grew past the bound.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { readAtMost } from '../../src/credentials-file/trust.js';
import type { FileStat, FsFile } from '../../src/credentials-file/fs.js';
import { MAX_KEY_MATERIAL_BYTES, readBounded } from '../../src/keys/bounded-read.js';
import { makeTempDir } from '../helpers/tmp.js';

/** The file opened for readAtMost, with the size it had when `stat` was taken. */
async function opened(path: string): Promise<{ file: FsFile; stat: FileStat; close: () => Promise<void> }> {
  const fh = await open(path, 'r');
  const stat = await fh.stat();
  const file = { read: (b: Buffer, o: number, l: number, p: number) => fh.read(b, o, l, p) } as unknown as FsFile;
  return { file, stat, close: () => fh.close() };
}

describe('bounded reads sized by the file', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = makeTempDir('ra-read-at-most-')));
  afterEach(() => cleanup());

  it('readAtMost returns the whole file, and all of it when it grew after its size was taken', async () => {
    const path = join(dir, 'state.json');
    writeFileSync(path, 'a'.repeat(100));
    const f = await opened(path);
    try {
      appendFileSync(path, 'b'.repeat(5000)); // grows between stat and read
      const got = await readAtMost(f.file, f.stat, 1 << 20);
      expect(got?.toString(), 'the grown file, every byte').to.equal('a'.repeat(100) + 'b'.repeat(5000));
    } finally {
      await f.close();
    }
  });

  it('readAtMost returns undefined for a file that grew past the limit after its size was taken', async () => {
    const path = join(dir, 'state.json');
    writeFileSync(path, 'a'.repeat(10));
    const f = await opened(path);
    try {
      appendFileSync(path, 'b'.repeat(200));
      expect(await readAtMost(f.file, f.stat, 100), 'a file larger than the limit').to.equal(undefined);
    } finally {
      await f.close();
    }
  });

  it('readAtMost reads an empty file as empty, and a file of exactly the limit', async () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const e = await opened(empty);
    expect((await readAtMost(e.file, e.stat, 100))?.length, 'bytes of an empty file').to.equal(0);
    await e.close();
    const full = join(dir, 'full');
    writeFileSync(full, 'x'.repeat(100));
    const f = await opened(full);
    expect((await readAtMost(f.file, f.stat, 100))?.length, 'bytes of a file of exactly the limit').to.equal(100);
    await f.close();
  });

  it('readBounded reads a FIFO past its first 64 KiB, and refuses one beyond the bound', async function () {
    this.timeout(20_000);
    const fifo = join(dir, 'key.fifo');
    execFileSync('mkfifo', [fifo]);
    const body = 'k'.repeat(200 * 1024);
    const writer = import('node:fs/promises').then((fs) => fs.writeFile(fifo, body));
    const got = await readBounded(fifo, 'private key');
    await writer;
    expect(got.toString(), 'the FIFO\'s 200 KiB').to.equal(body);

    const big = join(dir, 'big.fifo');
    execFileSync('mkfifo', [big]);
    const tooMuch = import('node:fs/promises').then((fs) => fs.writeFile(big, Buffer.alloc(MAX_KEY_MATERIAL_BYTES + 10, 0x41)).catch(() => undefined));
    let code: string | undefined;
    try {
      await readBounded(big, 'private key');
    } catch (e) {
      code = (e as { code?: string }).code;
    }
    await tooMuch;
    expect(code, 'the error code for key material beyond the bound').to.equal('FILE_UNREADABLE');
  });
});
