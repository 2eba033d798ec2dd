/**
 * Reading key material (certificates, keys, PKCS#12 bundles, intermediates, password and PIN files)
 * with a size cap: a 50 MB file named by mistake took ~30 s to refuse, parsed as PEM on every
 * reload, and a path to /dev/zero never ended. Real key material is a few KiB; more than
 * MAX_KEY_MATERIAL_BYTES is refused naming the file, before any parsing. Reads stop one byte past
 * the cap, so a device or a FIFO that never ends cannot grow memory either.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { AgentError } from '../errors.js';

export const MAX_KEY_MATERIAL_BYTES = 1024 * 1024;

export function tooLarge(path: string, what: string, size: number | undefined): AgentError {
  const got = size !== undefined ? `${(size / 1024 / 1024).toFixed(1)} MiB` : 'larger than that';
  return new AgentError('FILE_UNREADABLE', `${what} ${path} is ${got}; key material is at most ${MAX_KEY_MATERIAL_BYTES / 1024 / 1024} MiB`, {
    hint: `check that ${what} names the certificate, key or bundle itself (a few KiB), not an archive, a log or a device`,
  });
}

/** The file's bytes, or an AgentError from tooLarge(); errno errors are thrown as they are. */
export async function readBounded(path: string, what: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (st.isFile() && st.size > MAX_KEY_MATERIAL_BYTES) throw tooLarge(path, what, st.size);
    // A regular file's own size (plus room to see it grow) rather than 1 MiB per read; a FIFO or
    // device, whose size says nothing, starts at 64 KiB and grows up to the bound as it fills.
    let buf = Buffer.alloc(st.isFile() ? Math.min(MAX_KEY_MATERIAL_BYTES, st.size + 4096) + 1 : 64 * 1024);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        const bigger = Buffer.alloc(Math.min(MAX_KEY_MATERIAL_BYTES + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > MAX_KEY_MATERIAL_BYTES) throw tooLarge(path, what, st.isFile() ? st.size : undefined);
    }
    return Buffer.from(buf.subarray(0, n));
  } finally {
    await fh.close();
  }
}

/** readBounded for the synchronous readers (PKCS#11 certificate files, PIN files). */
export function readBoundedSync(path: string, what: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(MAX_KEY_MATERIAL_BYTES + 1);
    let n = 0;
    for (;;) {
      const bytesRead = readSync(fd, buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > MAX_KEY_MATERIAL_BYTES) throw tooLarge(path, what, undefined);
    }
    return Buffer.from(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}
