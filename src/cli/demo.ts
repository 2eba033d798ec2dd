/**
 * `demo`: the whole loop on this machine, no AWS account needed. Generates a demo PKI under
 * ./.demo/ (a root CA, an RSA and an EC end-entity certificate), starts the built-in emulator on
 * loopback over HTTPS, and runs the agent on a two-profile schedule writing ./.demo/credentials.
 * The emulator issues short-lived credentials so refreshes show within a minute, and the RSA
 * certificate is rotated once after --rotate-after seconds so the pickup shows in the log.
 * Ctrl-C stops everything cleanly.
 */
import { mkdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startEmulator, quickConfig } from '../emulator/index.js';
import { issue, writePrivate, type Issued } from '../pki/issue.js';
import { parseCommandFlags } from './flags.js';
import { EXIT, type CommandIO } from './io.js';
import { runCommand } from './run.js';

export const DEMO_HELP = `Usage: rolesanywhere-agent demo [--dir DIR] [--duration SECONDS] [--rotate-after SECONDS]

Runs the agent against the built-in CreateSession emulator with a generated demo PKI:
  --dir DIR              where to put the PKI, schedule and credentials (default ./.demo)
  --duration SECONDS     stop by itself after this long (default: run until Ctrl-C)
  --rotate-after SECONDS rotate the RSA demo certificate once after this long (default 20; 0 = never)
  --lifetime SECONDS     lifetime of the emulator's credentials (default 60)`;

const TRUST_ANCHOR = 'arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/00000000-0000-4000-8000-000000000001';
const PROFILE = 'arn:aws:rolesanywhere:us-east-1:111122223333:profile/00000000-0000-4000-8000-000000000002';
const ROLE_RSA = 'arn:aws:iam::111122223333:role/demo-rsa';
const ROLE_EC = 'arn:aws:iam::111122223333:role/demo-ec';

function scheduleYaml(dir: string, endpoint: string): string {
  return `# Written by 'rolesanywhere-agent demo': two profiles against the local emulator.
credentials_file: ${join(dir, 'credentials')}
defaults:
  trust_anchor_arn: ${TRUST_ANCHOR}
  profile_arn: ${PROFILE}
  endpoint: ${endpoint}
  ca_bundle: ${join(dir, 'emulator-ca.pem')}
  session_duration: 1h
  refresh: { before_expiry: 15m }
profiles:
  demo-rsa:
    certificate: ${join(dir, 'rsa.crt.pem')}
    private_key: ${join(dir, 'rsa.key.pem')}
    intermediates: ${join(dir, 'intermediate.pem')}
    role_arn: ${ROLE_RSA}
  demo-ec:
    certificate: ${join(dir, 'ec.crt.pem')}
    private_key: ${join(dir, 'ec.key.pem')}
    role_arn: ${ROLE_EC}
`;
}

/** Writes a new pair the way cert-manager and most tools do: new files renamed over the old ones. */
function installPair(dir: string, name: string, leaf: Issued): void {
  for (const [suffix, data] of [['key.pem', leaf.keyPem], ['crt.pem', leaf.certPem]] as const) {
    const final = join(dir, `${name}.${suffix}`);
    writePrivate(`${final}.new`, data);
    renameSync(`${final}.new`, final);
  }
}

export async function demoCommand(args: string[], io: CommandIO): Promise<number> {
  const values = parseCommandFlags(
    'demo',
    args,
    {
      dir: { type: 'string' },
      duration: { type: 'string' },
      'rotate-after': { type: 'string' },
      lifetime: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    DEMO_HELP,
    io,
  );
  if (typeof values === 'number') return values;
  const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
  const duration = num(values.duration, 0);
  const rotateAfter = num(values['rotate-after'], 20);
  const lifetime = num(values.lifetime, 60);
  if (![duration, rotateAfter, lifetime].every((n) => Number.isFinite(n) && n >= 0)) {
    io.stderr.write('rolesanywhere-agent demo: --duration, --rotate-after and --lifetime take seconds\n');
    return EXIT.BAD_INPUT;
  }
  const dir = resolve(values.dir ?? '.demo');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const say = (line: string) => io.stdout.write(`[demo] ${line}\n`);

  say(`generating a demo PKI in ${dir}`);
  const root = await issue({ name: 'rolesanywhere-agent demo root CA', kind: 'ec', ca: true, notAfter: new Date(io.clock.now() + 365 * 864e5) });
  const intermediate = await issue({ name: 'rolesanywhere-agent demo intermediate CA', kind: 'rsa', ca: true, issuer: root });
  const rsaLeaf = await issue({ name: 'demo-rsa.example.test', kind: 'rsa', issuer: intermediate });
  const ecLeaf = await issue({ name: 'demo-ec.example.test', kind: 'ec', issuer: root });
  writePrivate(join(dir, 'root-ca.pem'), root.certPem);
  writePrivate(join(dir, 'intermediate.pem'), intermediate.certPem);
  installPair(dir, 'rsa', rsaLeaf);
  installPair(dir, 'ec', ecLeaf);

  const emulator = await startEmulator(
    quickConfig({ trustAnchors: [{ arn: TRUST_ANCHOR, certificatePem: root.certPem }], profileArns: [PROFILE], roleArns: [ROLE_RSA, ROLE_EC] }),
    { httpsPort: 0, clock: io.clock },
  );
  if (lifetime > 0) emulator.faults.shortLived(lifetime);
  writePrivate(join(dir, 'emulator-ca.pem'), emulator.caPem);
  say(`emulator listening on ${emulator.httpsUrl} (credentials live ${lifetime || 3600} s)`);
  const schedulePath = join(dir, 'agent.yaml');
  writePrivate(schedulePath, scheduleYaml(dir, emulator.httpsUrl!));
  say(`schedule ${schedulePath}; credentials → ${join(dir, 'credentials')}`);
  say(`read a profile with: AWS_SHARED_CREDENTIALS_FILE=${join(dir, 'credentials')} aws configure export-credentials --profile demo-rsa --format process`);
  say('press Ctrl-C to stop');

  const stop = new AbortController();
  const onAbort = () => stop.abort(io.signal.reason);
  io.signal.addEventListener('abort', onAbort, { once: true });
  const timers: NodeJS.Timeout[] = [];
  if (duration > 0) timers.push(setTimeout(() => stop.abort('duration'), duration * 1000));
  if (rotateAfter > 0) {
    timers.push(
      setTimeout(() => {
        void issue({ name: 'demo-rsa.example.test (rotated)', kind: 'rsa', issuer: intermediate }).then((next) => {
          installPair(dir, 'rsa', next);
          say(`rotated the RSA demo certificate: new serial ${next.nodeCert.serialNumber} — watch for "rotated certificate picked up"`);
        });
      }, rotateAfter * 1000),
    );
  }
  try {
    return await runCommand(['--config', schedulePath], { ...io, signal: stop.signal });
  } finally {
    for (const t of timers) clearTimeout(t);
    io.signal.removeEventListener('abort', onAbort);
    await emulator.stop();
    say('stopped');
  }
}
