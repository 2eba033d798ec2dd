/**
 * A software TPM 2.0 for one test file: swtpm on a unix socket in a temp dir, a private D-Bus
 * session bus, tpm2-abrmd as resource manager (tpm2_ptool runs out of TPM object slots without
 * one), and a tpm2-pkcs11 store with one token. The tpm2-pkcs11 module reads TPM2_PKCS11_STORE,
 * TPM2_PKCS11_TCTI and DBUS_SESSION_BUS_ADDRESS at C_Initialize, so `start` sets them in this
 * process. tpm2_ptool takes PINs only in argv: these are throwaway test PINs. Never send a wrong PIN
 * to this token: three lock it (wrong PINs are tested on SoftHSM).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireTools } from '../../helpers/prerequisites.js';

const run = promisify(execFile);

export { TPM2_PKCS11_MODULE } from '../../helpers/prerequisites.js';

export function assertSwtpm(): void {
  requireTools('swtpm', 'pkcs11js');
}

export interface SoftTpm {
  store: string;
  label: string;
  userPin: string;
  env: NodeJS.ProcessEnv;
  ptool(args: string[]): Promise<string>;
  /** Stops the daemons and waits until they have exited. */
  stop(): Promise<void>;
}

function daemon(cmd: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // stdio ignored so no pipe keeps the test process (or a shell) waiting on the daemon.
  return spawn(cmd, args, { env, stdio: 'ignore' });
}

async function waitUntil(what: string, probe: () => Promise<unknown>, attempts = 100): Promise<void> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      await probe();
      return;
    } catch (e) {
      last = e;
      // Polls a starting daemon: bounded (about 5 s), not a timer under test.
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${what} did not come up: ${(last as Error)?.message ?? last}`);
}

export async function startSoftTpm(dir: string, label = 'tpm-token'): Promise<SoftTpm> {
  assertSwtpm();
  const state = join(dir, 'tpm-state');
  const store = join(dir, 'tpm2-pkcs11-store');
  mkdirSync(state, { recursive: true });
  mkdirSync(store, { recursive: true });
  const sock = join(dir, 'tpm.sock');
  const bus = `unix:path=${join(dir, 'bus')}`;
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    const live = children.reverse().filter((c) => c.exitCode === null && c.signalCode === null);
    const exited = live.map((c) => new Promise((r) => c.once('exit', r)));
    for (const c of live) c.kill('SIGTERM');
    await Promise.all(exited);
  };
  try {
    children.push(
      daemon('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${state}`, '--server', `type=unixio,path=${sock}`, '--ctrl', `type=unixio,path=${sock}.ctrl`, '--flags', 'not-need-init,startup-clear'], process.env),
    );
    children.push(daemon('dbus-daemon', ['--session', '--nofork', `--address=${bus}`], process.env));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DBUS_SESSION_BUS_ADDRESS: bus,
      TPM2TOOLS_TCTI: 'tabrmd:bus_type=session',
      TPM2_PKCS11_TCTI: 'tabrmd:bus_type=session',
      TPM2_PKCS11_STORE: store,
      TPM2_PKCS11_LOG_LEVEL: '0',
    };
    await waitUntil('swtpm', () => run('tpm2_getrandom', ['--tcti', `swtpm:path=${sock}`, '4', '--hex']));
    const abrmdArgs = ['--session', `--tcti=swtpm:path=${sock}`, '--flush-all'];
    if (process.getuid?.() === 0) abrmdArgs.unshift('--allow-root');
    children.push(daemon('tpm2-abrmd', abrmdArgs, env));
    await waitUntil('tpm2-abrmd', () => run('tpm2_getrandom', ['4', '--hex'], { env }));
    const ptool = async (args: string[]): Promise<string> => (await run('tpm2_ptool', [...args], { env })).stdout;
    const tpm: SoftTpm = { store, label, userPin: '246810', env, ptool, stop };
    await ptool(['init', `--path=${store}`]);
    await ptool(['addtoken', `--path=${store}`, '--pid=1', `--label=${label}`, `--userpin=${tpm.userPin}`, '--sopin=13579111']);
    for (const k of ['DBUS_SESSION_BUS_ADDRESS', 'TPM2_PKCS11_TCTI', 'TPM2_PKCS11_STORE', 'TPM2_PKCS11_LOG_LEVEL'] as const) process.env[k] = env[k];
    return tpm;
  } catch (e) {
    await stop();
    throw e;
  }
}
