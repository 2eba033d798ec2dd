/**
 * Resolves a path one component at a time, the way the kernel does, and records every symlink it
 * passes through. A certificate path on a real host often resolves through several links — a
 * Kubernetes volume's `cert.pem -> ..data/cert.pem` and `..data -> ..2026_01_01_…`, certbot's
 * `live/x/cert.pem -> ../../archive/x/cert3.pem`, a `current -> v1` directory two levels up — and a
 * rotation replaces one of those links rather than the file. Watching the directories that hold the
 * links (and the directory of the final file) is what makes such a swap visible.
 */
import { lstat, readlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';

/** Linux's own limit on symlinks followed while resolving one path (ELOOP beyond it). */
const MAX_LINKS = 40;

export interface Resolution {
  /** The path as configured, made absolute. */
  path: string;
  /** What it resolves to: the final file, or where it would be if a component is missing. */
  target: string;
  /** Every symlink passed, in order: `link` is its absolute path, `to` what it held. */
  links: Array<{ link: string; to: string }>;
  /** Directories whose entries decide what the path resolves to: each link's directory and the final one. */
  dirs: string[];
  /** The first component that does not exist (ENOENT/ENOTDIR), when the path does not resolve. */
  missing?: string;
  /** Set when resolution stopped for another reason (ELOOP, EACCES, …). */
  error?: string;
}

function components(p: string): string[] {
  return p.split(sep).filter((c) => c !== '' && c !== '.');
}

export async function resolveChain(path: string): Promise<Resolution> {
  const absolute = resolve(path);
  const links: Resolution['links'] = [];
  const dirs = new Set<string>();
  let current: string = sep;
  const rest = components(absolute);
  let hops = 0;
  while (rest.length > 0) {
    const c = rest.shift()!;
    if (c === '..') {
      current = dirname(current);
      continue;
    }
    const candidate = join(current, c);
    let isLink: boolean;
    try {
      isLink = (await lstat(candidate)).isSymbolicLink();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const target = join(candidate, ...rest);
      // The nearest existing directory is where the missing entry will reappear.
      dirs.add(current);
      if (code === 'ENOENT' || code === 'ENOTDIR') return { path: absolute, target, links, dirs: [...dirs], missing: candidate };
      return { path: absolute, target, links, dirs: [...dirs], error: code ?? String(e) };
    }
    if (!isLink) {
      current = candidate;
      continue;
    }
    if (++hops > MAX_LINKS) {
      dirs.add(current);
      return { path: absolute, target: join(candidate, ...rest), links, dirs: [...dirs], error: 'ELOOP' };
    }
    let to: string;
    try {
      to = await readlink(candidate);
    } catch (e) {
      // Replaced between lstat and readlink: resolve it again.
      rest.unshift(c);
      if ((e as NodeJS.ErrnoException).code === 'EINVAL' || (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      dirs.add(current);
      return { path: absolute, target: join(candidate, ...rest), links, dirs: [...dirs], error: (e as NodeJS.ErrnoException).code ?? String(e) };
    }
    links.push({ link: candidate, to });
    dirs.add(current);
    if (isAbsolute(to)) current = sep;
    rest.unshift(...components(to));
  }
  dirs.add(dirname(current));
  return { path: absolute, target: current, links, dirs: [...dirs] };
}
