/** Starting and talking to the writer-child processes (see fixtures/writer-child.ts). */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface Child {
  readonly proc: ChildProcessWithoutNullStreams;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Resolves with the first stdout line matching `test` (rejects if the child exits first). */
  waitFor(test: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  send(line: string): void;
}

/**
 * An environment without the AWS_* variables of whoever runs the tests, and without
 * NODE_EXTRA_CA_CERTS: the children make no TLS connection, and loading that bundle costs about
 * 0.1 s of CPU per start — most of the crash test's time.
 */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && k !== 'NODE_EXTRA_CA_CERTS') env[k] = v;
  return { ...env, ...extra };
}

export function startChild(script: string, mode: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [script, mode], { env: cleanEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  let buf = '';
  const watchers: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      for (const w of [...watchers]) {
        if (w.test(line)) {
          watchers.splice(watchers.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d: string) => (err += d));
  proc.stdin.on('error', () => undefined); // a killed child's stdin may be closed under us
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc,
    lines,
    exited,
    stderr: () => err,
    send: (line) => void proc.stdin.write(`${line}\n`),
    waitFor(test, what, timeoutMs = 15_000) {
      const seen = lines.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child (${mode}) did not print ${what} within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
        watchers.push({
          test,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`child (${mode}) exited (code ${code}, signal ${signal}) before printing ${what}; stderr: ${err}`));
        });
      });
    },
  };
}
