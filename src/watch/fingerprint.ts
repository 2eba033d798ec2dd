/**
 * What a set of key files looks like now: per configured path, the symlink chain it resolves
 * through, the device, inode, size, mtime and ctime of the file at its end, and the SHA-256 of its
 * bytes. The hash is what decides a reload: a `chmod` or a `touch` moves the metadata but not the
 * bytes, so it costs one re-read and no CreateSession. The metadata only saves that re-read: when a
 * file's chain and stat are unchanged, its previous hash is kept.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolveChain, type Resolution } from './resolve.js';

export interface FileState {
  resolution: Resolution;
  /** `dev:ino:size:mtime:ctime` of the final file; absent when it could not be read. */
  stat?: string;
  /** SHA-256 of the bytes, or `missing:<where>` / `error:<code>` when there are none. */
  content: string;
}

export interface Fingerprint {
  files: FileState[];
  /** Every file's content, in path order: equal keys mean the same bytes behind every path. */
  contentKey: string;
  /** The chains too: equal keys mean nothing moved at all. */
  key: string;
  /** Directories to watch for all of these paths. */
  dirs: string[];
}

async function fileState(path: string, previous: FileState | undefined): Promise<FileState> {
  const resolution = await resolveChain(path);
  if (resolution.missing) return { resolution, content: `missing:${resolution.missing}` };
  if (resolution.error) return { resolution, content: `error:${resolution.error}` };
  try {
    const s = await stat(resolution.target, { bigint: true });
    const meta = `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    if (previous?.stat === meta && previous.resolution.target === resolution.target) return { resolution, stat: meta, content: previous.content };
    const bytes = await readFile(resolution.target);
    return { resolution, stat: meta, content: createHash('sha256').update(bytes).digest('hex') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    // Removed between resolving and reading: the same as missing.
    return { resolution, content: code === 'ENOENT' ? `missing:${resolution.target}` : `error:${code}` };
  }
}

/** Fingerprints `paths`, re-using `previous` hashes where the metadata did not move. */
export async function takeFingerprint(paths: string[], previous?: Fingerprint): Promise<Fingerprint> {
  const files = await Promise.all(paths.map((p, i) => fileState(p, previous?.files[i])));
  const dirs = [...new Set(files.flatMap((f) => f.resolution.dirs))];
  const contentKey = files.map((f) => f.content).join('|');
  const key = files.map((f) => [...f.resolution.links.map((l) => `${l.link}>${l.to}`), f.resolution.target, f.stat ?? '', f.content].join(',')).join('|');
  return { files, contentKey, key, dirs };
}

/** Paths whose change can move the fingerprint: each link on a chain, each final file, each first missing component. */
export function relevantPaths(fp: Fingerprint): Set<string> {
  const out = new Set<string>();
  for (const f of fp.files) {
    out.add(f.resolution.path);
    for (const l of f.resolution.links) out.add(l.link);
    out.add(f.resolution.target);
    if (f.resolution.missing) out.add(f.resolution.missing);
  }
  return out;
}
