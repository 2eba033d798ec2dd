/**
 * A real SoftHSM2 token store for tests, made fresh in a caller's temp dir: its own softhsm2.conf
 * and token directory, tokens initialised and filled with keys and certificates by OpenSC's
 * pkcs11-tool (as an administrator would), all PINs passed as `env:VAR` so none is in argv.
 *
 * SoftHSM reads SOFTHSM2_CONF at C_Initialize, so `SoftHsm.create` sets it in this process's
 * environment: the module under test must be initialised after that (each test's registry
 * initialises it and finalises it again on close). A missing SoftHSM fails the test: PKCS#11 tests
 * never skip.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { requireTools } from './prerequisites.js';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export function assertSoftHsm(): void {
  requireTools('softhsm2', 'opensc', 'pkcs11js');
}

export interface HsmToken {
  label: string;
  serial: string;
  /** Throwaway test PINs. */
  pin: string;
  soPin: string;
}

interface SlotListing {
  id: string;
  label?: string;
  serial?: string;
  initialized: boolean;
}

function parseSlots(text: string): SlotListing[] {
  const out: SlotListing[] = [];
  for (const block of text.split(/^Slot /m).slice(1)) {
    const id = /^\d+ \((0x[0-9a-f]+)\)/.exec(block)?.[1];
    if (!id) continue;
    const label = /token label\s*:\s*(.*)$/m.exec(block)?.[1]?.trim();
    const serial = /serial num\s*:\s*(.*)$/m.exec(block)?.[1]?.trim();
    out.push({ id, ...(label !== undefined ? { label } : {}), ...(serial !== undefined ? { serial } : {}), initialized: !/uninitialized/.test(block) });
  }
  return out;
}

export class SoftHsm {
  readonly conf: string;
  readonly tokenDir: string;
  private files = 0;

  private constructor(readonly dir: string) {
    this.conf = join(dir, 'softhsm2.conf');
    this.tokenDir = join(dir, 'tokens');
  }

  /** A fresh, empty store in `dir`, made current for this process (SOFTHSM2_CONF). */
  static create(dir: string): SoftHsm {
    assertSoftHsm();
    const hsm = new SoftHsm(dir);
    mkdirSync(hsm.tokenDir, { recursive: true, mode: 0o700 });
    writeFileSync(hsm.conf, `directories.tokendir = ${hsm.tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
    process.env.SOFTHSM2_CONF = hsm.conf;
    return hsm;
  }

  private tool(args: string[], pins: Record<string, string> = {}): string {
    try {
      return execFileSync('pkcs11-tool', ['--module', SOFTHSM_MODULE, ...args], {
        env: { ...process.env, SOFTHSM2_CONF: this.conf, ...pins },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      const err = e as { stderr?: string; stdout?: string };
      throw new Error(`pkcs11-tool ${args.filter((a) => !a.startsWith('env:')).join(' ')} failed: ${err.stderr ?? ''}${err.stdout ?? ''}`);
    }
  }

  slots(): SlotListing[] {
    return parseSlots(this.tool(['--list-slots']));
  }

  /** Initialises the free slot's token with `label` and sets its user PIN. */
  initToken(label: string, pin = '1234', soPin = '12345678'): HsmToken {
    const free = this.slots().find((s) => !s.initialized);
    if (!free) throw new Error('SoftHSM offers no free slot');
    const pins = { HSM_TEST_SO_PIN: soPin, HSM_TEST_PIN: pin };
    this.tool(['--slot', free.id, '--init-token', '--label', label, '--so-pin', 'env:HSM_TEST_SO_PIN'], pins);
    this.tool(['--token-label', label, '--login', '--login-type', 'so', '--so-pin', 'env:HSM_TEST_SO_PIN', '--init-pin', '--new-pin', 'env:HSM_TEST_PIN'], pins);
    const serial = this.slots().find((s) => s.label === label)?.serial;
    if (!serial) throw new Error(`token ${label} not found after init`);
    return { label, serial, pin, soPin };
  }

  private file(name: string, data: Buffer): string {
    const path = join(this.dir, `${++this.files}-${name}`);
    writeFileSync(path, data, { mode: 0o600 });
    return path;
  }

  /** Writes a private key (PKCS#8) onto the token. */
  writeKey(t: HsmToken, key: KeyObject, o: { id: Buffer; label: string; alwaysAuthenticate?: boolean }): void {
    const path = this.file('key.der', key.export({ format: 'der', type: 'pkcs8' }));
    const args = ['--token-label', t.label, '--login', '--pin', 'env:HSM_TEST_PIN', '--write-object', path, '--type', 'privkey', '--private', '--id', o.id.toString('hex'), '--label', o.label];
    if (o.alwaysAuthenticate) args.push('--always-auth');
    this.tool(args, { HSM_TEST_PIN: t.pin });
  }

  writeCert(t: HsmToken, cert: X509Certificate, o: { id?: Buffer; label: string }): void {
    const path = this.file('cert.der', cert.raw);
    const args = ['--token-label', t.label, '--login', '--pin', 'env:HSM_TEST_PIN', '--write-object', path, '--type', 'cert', '--label', o.label];
    if (o.id) args.push('--id', o.id.toString('hex'));
    this.tool(args, { HSM_TEST_PIN: t.pin });
  }
}
