#!/usr/bin/env node
/**
 * argv → command → exit code. The only place that exits the process and that turns signals into
 * an AbortSignal. Commands load lazily so `credential-process` (run once per AWS CLI call) does
 * not pay for the agent's modules.
 */
import { EXIT, type CommandIO } from './cli/io.js';
import { systemClock } from './time/clock.js';

type Command = (args: string[], io: CommandIO) => Promise<number>;

/** How long a command has after SIGTERM/SIGINT before the process exits anyway (commands stop in 2 s). */
const HARD_STOP_MS = 1_500;
const signalExit = (sig: NodeJS.Signals): number => (sig === 'SIGINT' ? EXIT.INTERRUPTED : EXIT.TERMINATED);

/**
 * Ends the process by the signal itself, which a shell reports as 143 / 130 too. Not
 * process.exit(): it waits for the libuv thread pool, and a thread blocked in open() (a FIFO where a
 * file was expected) holds it for ever; the signal's default action does not wait.
 */
function dieBy(sig: NodeJS.Signals): void {
  process.removeAllListeners(sig);
  process.kill(process.pid, sig);
}

/**
 * For the commands that refresh many profiles in a burst (`run`, `once`): V8's optimising compiler
 * does not pay for itself on them. Compiling ~800 functions per burst cost more CPU than the
 * optimised code saved: a 1000-profile refresh cycle of `run` took 1680 ms of CPU instead of 2140,
 * its cold fill 2.20 s instead of 2.90 s, and `once` filling 1000 profiles 1.5–1.9 s instead of
 * 2.1–2.3 s, with peak RSS 10–16 MB lower (bench/agent.ts with BENCH_NODE_FLAGS=--no-opt, and
 * `once` under /usr/bin/time; Node 20). The main thread is slower per burst, but the quota (< 10
 * CreateSession/s) paces refreshes far below what it can do. Measured again over five refresh
 * cycles (2026-12-06): with TurboFan the later cycles of a long-running agent cost ~10 % less CPU per
 * refresh, but the first burst pays for the compiling (+0.5-1 s of CPU for 1000 profiles) and peak
 * RSS at 1000 profiles rose by 15-20 MB to 145-147 MB, at the edge of its 150 MB goal. So it starts
 * off, and `run` turns it on only for a schedule large enough to pay for it, with a later tier-up
 * that leaves the cold fill alone, or for credential endpoints (cli/compiler.ts).
 * Set before the command's code loads; the heap settings below are about memory.
 */
function forRefreshBursts(load: () => Promise<Command>): () => Promise<Command> {
  return () => {
    const { setFlagsFromString } = builtin('node:v8');
    setFlagsFromString('--no-turbofan'); // `--no-opt` is the older alias
    // Loading the command's modules makes mostly long-lived objects, and V8 grew the young
    // generation to 16 MB for them: a one-profile `run` peaked at 61-62 MB, 58 MB with the young
    // generation kept at its initial size until the modules are loaded (bench/run-rss.ts). Growth
    // is back on (V8's default factor, 2) before any refresh, so a burst of 1000 still gets room.
    setFlagsFromString('--semi-space-growth-factor=1');
    // Each burst makes large short-lived objects (a 1 MB credentials file read, edited and verified
    // per replace, the state file's JSON), and V8's default growing factor (up to 4x the live heap
    // after a full GC) let the old generation grow through a run's bursts: a 1000-profile agent,
    // ~25 MB live, peaked at 125-186 MB over 5-10 refresh cycles (5 runs of 14 above 150 MB), 207 MB
    // with its metrics scraped. Growing by half the live heap kept it at 126-131 MB, with no
    // difference in CPU per refresh measurable here (bench/agent.ts, docs/benchmarks.md).
    setFlagsFromString('--heap-growing-percent=50');
    return load().finally(() => setFlagsFromString('--semi-space-growth-factor=2'));
  };
}

/**
 * A command's bundle (dist/src/bundle/, made by packaging/bundle.mjs; not in src/, so imported by a
 * variable that tsc leaves alone). A tree compiled by tsc alone has none, and gets one line saying
 * so instead of a stack.
 */
async function loadBundle<T>(file: string): Promise<T> {
  try {
    return (await import(file)) as T;
  } catch (e) {
    const about = (e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(file.slice(1));
    if (!about) throw e;
    const missing = new Error(`${file.replace('./', 'dist/src/')} is missing: this tree was compiled without the build's last step; run npm run build`);
    missing.stack = missing.message;
    throw missing;
  }
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  'credential-process': {
    summary: 'print one set of credentials as credential_process JSON',
    // The bundle `npm run build` makes of cli/credential-process.js (packaging/bundle.mjs): a few
    // chunks for a call instead of ~35 modules.
    load: async () => (await loadBundle<typeof import('./cli/credential-process.js')>('./bundle/credential-process.js')).credentialProcessCommand,
  },
  run: {
    summary: 'run the agent: keep every profile of a schedule fresh (foreground)',
    // Bundled too (packaging/bundle.mjs): ~150 modules in a few chunks, ~2 MB less at peak.
    load: forRefreshBursts(async () => (await loadBundle<typeof import('./cli/run.js')>('./bundle/run.js')).runCommand),
  },
  once: {
    summary: 'refresh the profiles of a schedule that are missing or due, then exit',
    load: forRefreshBursts(async () => (await import('./cli/once.js')).onceCommand),
  },
  validate: {
    summary: 'check a schedule, its key material and ARNs without calling AWS',
    load: async () => (await import('./cli/validate.js')).validateCommand,
  },
  status: {
    summary: 'show each profile: expiry, next refresh, last error, certificate days left',
    load: async () => (await import('./cli/status.js')).statusCommand,
  },
  update: {
    summary: 'keep one profile of the credentials file fresh (drop-in for aws_signing_helper update)',
    load: async () => (await import('./cli/update.js')).updateCommand,
  },
  'list-certs': {
    summary: 'list certificates and keys on a PKCS#11 token or in a PEM file, with URIs to copy',
    load: async () => (await import('./cli/list-certs.js')).listCertsCommand,
  },
  import: {
    summary: 'print a schedule translated from the aws_signing_helper profiles of the AWS config file',
    load: async () => (await import('./cli/import.js')).importCommand,
  },
  demo: {
    summary: 'the whole loop on this machine: demo PKI, local emulator, agent (no AWS account)',
    load: async () => (await import('./cli/demo.js')).demoCommand,
  },
  emulator: {
    summary: 'run the local CreateSession emulator (tests, demo, offline dry runs)',
    load: async () => (await import('./cli/emulator.js')).emulatorCommand,
  },
};

/**
 * Node's own modules for one command's path, without an ES import: importing node:fs or node:v8
 * builds their ES module facade (every export read, so lazy parts such as fs streams and v8's heap
 * utilities load), which `--help` and `--version`, run by scripts and the AWS CLI, do not need.
 */
const builtin: typeof process.getBuiltinModule = (id: string) => process.getBuiltinModule(id);

function version(): string {
  const { existsSync, readFileSync } = builtin('node:fs');
  const { dirname, join } = builtin('node:path');
  const { fileURLToPath } = builtin('node:url');
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
    dir = dirname(dir);
  }
  return 'unknown';
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(width)}  ${v.summary}`);
  return `Usage: rolesanywhere-agent <command> [flags]

Keeps named profiles in the AWS shared credentials file filled with fresh IAM Roles Anywhere
credentials.

Commands:
${lines.join('\n')}

Run 'rolesanywhere-agent <command> --help' for a command's flags.
Options: --help, --version`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`rolesanywhere-agent ${version()}\n`);
    return 0;
  }
  // Own keys only: `rolesanywhere-agent constructor` must be an unknown command, not Object's.
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    // Loaded only on this error path: the schedule's did-you-mean, with command names in its spelling.
    const { didYouMean } = await import('./config/keys.js');
    const names = Object.keys(COMMANDS);
    const guess = didYouMean(name, names.map((n) => n.replace(/-/g, '_')));
    const meant = guess && names.find((n) => n.replace(/-/g, '_') === guess);
    process.stderr.write(
      meant
        ? `rolesanywhere-agent: unknown command "${name}" — did you mean "${meant}"? Run 'rolesanywhere-agent --help' for the list\n`
        : `rolesanywhere-agent: unknown command "${name}" — run 'rolesanywhere-agent --help' for the list\n`,
    );
    return 2;
  }
  const controller = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  let hardStop: NodeJS.Timeout | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      process.stderr.write(`rolesanywhere-agent: second ${sig}, exiting now\n`);
      return dieBy(sig);
    }
    signalled = sig;
    controller.abort(sig);
    // The abort reaches requests, retry waits and the agent; this ends whatever else a command
    // may be stuck in (a PKCS#11 call, a file that blocks) so that every command stops in time.
    hardStop = setTimeout(() => {
      process.stderr.write(`rolesanywhere-agent: ${name} did not stop within ${HARD_STOP_MS} ms of ${sig}; exiting now\n`);
      dieBy(sig);
    }, HARD_STOP_MS);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const io: CommandIO = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    clock: systemClock,
    signal: controller.signal,
    isTTY: !!process.stderr.isTTY,
    onHangup: (fn) => {
      process.on('SIGHUP', fn);
      return () => process.off('SIGHUP', fn);
    },
  };
  try {
    const run = await command.load();
    const code = await run(rest, io);
    // A command cut short by a signal exits as the shell reports a signal; `run` stopping cleanly returns 0.
    return signalled && code !== EXIT.OK ? signalExit(signalled) : code;
  } finally {
    hardStop?.unref();
  }
}

/**
 * Exits with `code` once stdout and stderr have handed every byte to the OS. A pipe takes 64 KiB at
 * once and libuv queues the rest; process.exit() drops that queue, so `status --json | jq` got a
 * cut document. An empty write's callback runs after every earlier write of its stream.
 */
function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const flushed = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}

// Holds the event loop open until the command returns: a command waiting only on unref'd timers
// (`once` pacing 5,000 profiles through its quota) would otherwise let Node exit 0 mid-way, silently.
const keepAlive = setInterval(() => {}, 1 << 30);

main(process.argv.slice(2)).then(
  (code) => {
    clearInterval(keepAlive);
    exitWhenFlushed(code);
  },
  (e: unknown) => {
    clearInterval(keepAlive);
    process.stderr.write(`rolesanywhere-agent: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    exitWhenFlushed(1);
  },
);
