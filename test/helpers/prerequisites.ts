/**
 * The system tools some tests run, each with the Debian package that provides it. A test that
 * needs one calls `requireTools(...)` in its `before` hook: when something is missing, the hook
 * fails with ONE line naming the package to install (never a stack or a diff further down), and
 * `npm run test:setup` (test/setup.sh) installs every package listed here. The list in
 * test/setup.sh is checked against this table by test/helpers/prerequisites.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

interface Tool {
  /** What the tests use it for (shown in the one-line failure). */
  what: string;
  /** Debian packages that provide it. */
  packages: string[];
  present: () => boolean;
}

function onPath(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v '${name}'`], { stdio: 'ignore' }).status === 0;
}

function pythonImports(module: string): boolean {
  return existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

export const TPM2_PKCS11_MODULE = '/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so';

export const TOOLS = {
  awscli: { what: 'the AWS CLI v2 at /usr/bin/aws', packages: ['awscli'], present: () => existsSync('/usr/bin/aws') },
  python3: { what: 'python3 at /usr/bin/python3', packages: ['python3'], present: () => existsSync('/usr/bin/python3') },
  boto3: { what: 'boto3 for /usr/bin/python3', packages: ['python3-boto3'], present: () => pythonImports('boto3') },
  botocore: { what: 'botocore for /usr/bin/python3', packages: ['python3-botocore'], present: () => pythonImports('botocore') },
  openssl: { what: 'the openssl command', packages: ['openssl'], present: () => onPath('openssl') },
  softhsm2: {
    what: 'SoftHSM2 (/usr/lib/softhsm/libsofthsm2.so, softhsm2-util)',
    packages: ['softhsm2'],
    present: () => existsSync('/usr/lib/softhsm/libsofthsm2.so') && onPath('softhsm2-util'),
  },
  opensc: { what: "OpenSC's pkcs11-tool", packages: ['opensc'], present: () => onPath('pkcs11-tool') },
  swtpm: {
    what: 'the software TPM stack (swtpm, tpm2-abrmd, tpm2-tools, tpm2-pkcs11, dbus-daemon)',
    packages: ['swtpm', 'swtpm-tools', 'tpm2-tools', 'tpm2-abrmd', 'libtss2-tcti-tabrmd0', 'libtpm2-pkcs11-1', 'libtpm2-pkcs11-tools', 'dbus-daemon'],
    present: () => existsSync(TPM2_PKCS11_MODULE) && ['swtpm', 'tpm2-abrmd', 'dbus-daemon', 'tpm2_ptool', 'tpm2_getrandom'].every(onPath),
  },
  // systemd-analyze verify runs `man` on each Documentation= page of a unit.
  'systemd-analyze': { what: 'systemd-analyze and man (unit file checks)', packages: ['systemd', 'man-db'], present: () => onPath('systemd-analyze') && onPath('man') },
  git: { what: 'git (the README command in a clean clone)', packages: ['git'], present: () => onPath('git') },
  'dpkg-deb': { what: 'dpkg-deb (the .deb tests)', packages: ['dpkg'], present: () => onPath('dpkg-deb') },
  procps: { what: 'kill and ps', packages: ['procps'], present: () => onPath('ps') },
  podman: {
    what: 'podman with runc, and debootstrap for the stand-in base image (the container tests)',
    packages: ['podman', 'runc', 'debootstrap'],
    present: () => onPath('podman') && onPath('runc') && onPath('debootstrap'),
  },
  pkcs11js: {
    what: 'the PKCS#11 binding pkcs11js, built by npm ci with a C++ compiler',
    packages: ['g++', 'make', 'python3'],
    present: () => {
      try {
        createRequire(import.meta.url)('pkcs11js');
        return true;
      } catch {
        return false;
      }
    },
  },
} satisfies Record<string, Tool>;

export type ToolName = keyof typeof TOOLS;

/** Every Debian package the tests need (test/setup.sh installs this list). */
export function allPackages(): string[] {
  return [...new Set(Object.values(TOOLS).flatMap((t) => t.packages))].sort();
}

/** The tools of `names` that are missing, as one line naming the packages to install (or undefined). */
export function missingTools(...names: ToolName[]): string | undefined {
  const missing = names.filter((n) => !TOOLS[n].present());
  if (!missing.length) return undefined;
  const pkgs = [...new Set(missing.flatMap((n) => TOOLS[n].packages))];
  const extra = missing.includes('pkcs11js') ? ', then npm ci' : '';
  return `missing ${missing.map((n) => TOOLS[n].what).join('; ')}: apt-get install -y ${pkgs.join(' ')}${extra} (npm run test:setup installs everything the tests need)`;
}

/** An error that mocha prints as its message alone: no stack, no diff. */
export class MissingPrerequisite extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingPrerequisite';
    this.stack = `${this.name}: ${message}`;
  }
}

/** Call in a `before` hook: fails it with one line when a tool is missing. */
export function requireTools(...names: ToolName[]): void {
  const line = missingTools(...names);
  if (line) throw new MissingPrerequisite(line);
}
