/**
 * OpenSSH's real ssh-agent as a test fixture: started in the foreground (-D) on a socket in the test's
 * own directory, keys added with the real ssh-add, locked with `ssh-add -x` (the password comes from an
 * SSH_ASKPASS script, never from argv). Stopped by the pid this helper started.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class SshAgent {
  private child: ChildProcess | undefined;
  private constructor(
    readonly socket: string,
    private readonly dir: string,
  ) {}

  static async start(dir: string, name = 'agent.sock'): Promise<SshAgent> {
    const a = new SshAgent(join(dir, name), dir);
    await a.restart();
    return a;
  }

  /** Starts (again) on the same socket path: a new, empty agent. */
  async restart(): Promise<void> {
    if (this.child) throw new Error('ssh-agent is still running');
    const child = spawn('/usr/bin/ssh-agent', ['-D', '-a', this.socket], { stdio: 'ignore' });
    this.child = child;
    for (let i = 0; i < 200 && !existsSync(this.socket); i++) await new Promise((r) => setTimeout(r, 25));
    if (!existsSync(this.socket)) throw new Error(`ssh-agent did not create ${this.socket}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
  }

  private env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { PATH: process.env['PATH'], HOME: this.dir, SSH_AUTH_SOCK: this.socket, ...extra };
  }

  add(keyFile: string): void {
    execFileSync('/usr/bin/ssh-add', ['-q', keyFile], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** `ssh-add -l` as printed. */
  list(): string {
    try {
      return execFileSync('/usr/bin/ssh-add', ['-l'], { env: this.env(), encoding: 'utf8' });
    } catch (e) {
      return String((e as { stdout?: string }).stdout ?? '');
    }
  }

  lock(): void {
    this.lockCommand('-x');
  }

  unlock(): void {
    this.lockCommand('-X');
  }

  private lockCommand(flag: string): void {
    const askpass = join(this.dir, 'askpass.sh');
    // A throwaway lock password; the askpass script is how ssh-add reads one without a terminal.
    writeFileSync(askpass, '#!/bin/sh\necho throwaway-lock-password\n', { mode: 0o700 });
    execFileSync('/usr/bin/ssh-add', [flag], {
      env: this.env({ SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }
}
