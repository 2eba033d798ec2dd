/**
 * The ECS endpoint's per-profile tokens: 256 random bits each, new at every start, written
 * atomically to `<token_dir>/<profile>.token` (0600; the directory made 0700 when missing) for the
 * consumer to read (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE), and compared in constant time. A token
 * opens its own profile only. Deleting a token file does not revoke it (consumers that read it
 * keep working); a reload (SIGHUP) writes the files again.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../errors.js';

export type TokenCheck = 'ok' | 'missing' | 'wrong';

const digest = (s: string) => createHash('sha256').update(s).digest();

export class EcsTokens {
  /** profile → the SHA-256 of its token (what requests are compared against) and the token. */
  private readonly tokens = new Map<string, { token: string; digest: Buffer }>();

  constructor(
    readonly dir: string,
    private readonly random: (n: number) => Buffer = randomBytes,
    private readonly onToken?: (token: string) => void,
  ) {}

  fileOf(profile: string): string {
    return join(this.dir, `${profile}.token`);
  }

  /** Gives each profile a token (keeping existing ones), writes every file, and forgets (and deletes) the others. */
  async sync(profiles: readonly string[]): Promise<void> {
    await this.prepareDir();
    for (const name of [...this.tokens.keys()]) {
      if (!profiles.includes(name)) {
        this.tokens.delete(name);
        await rm(this.fileOf(name), { force: true });
      }
    }
    for (const name of profiles) {
      let t = this.tokens.get(name);
      if (!t) {
        const token = this.random(32).toString('base64url');
        t = { token, digest: digest(token) };
        this.tokens.set(name, t);
        this.onToken?.(token);
      }
      // No newline: the JS SDK puts the file's bytes into the header as they are, and a \n breaks it.
      await writeAtomically(this.fileOf(name), t.token);
    }
  }

  /** Constant time in the token's content: both sides are hashed to 32 bytes before comparing. */
  check(profile: string, presented: string | undefined): TokenCheck {
    if (presented === undefined || presented === '') return 'missing';
    const want = this.tokens.get(profile);
    const got = digest(presented.trim());
    // An unknown profile is compared against a dummy so its answer takes the same time as a wrong token.
    return timingSafeEqual(got, want?.digest ?? DUMMY) && want ? 'ok' : 'wrong';
  }

  async removeFiles(): Promise<void> {
    for (const name of this.tokens.keys()) await rm(this.fileOf(name), { force: true }).catch(() => {});
  }

  private async prepareDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const st = await lstat(this.dir);
    if (!st.isDirectory()) throw new AgentError('CONFIG_INVALID', `serve.ecs.token_dir: ${this.dir} is not a directory`, { hint: 'point token_dir at a directory (the agent creates it, mode 0700, when missing)' });
    if ((st.mode & 0o022) !== 0) {
      throw new AgentError('CONFIG_INVALID', `serve.ecs.token_dir: ${this.dir} is writable by others (mode ${(st.mode & 0o7777).toString(8)}), who could swap the token files`, {
        hint: `chmod 700 ${this.dir}, or choose a directory of the agent's own`,
      });
    }
  }
}

const DUMMY = digest('\0no such profile');

/** Same-directory temp file (exclusive, 0600), fsync, rename over, fsync the directory. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const dir = await open(join(path, '..'), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
