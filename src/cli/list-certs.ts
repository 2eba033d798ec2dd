/**
 * `rolesanywhere-agent list-certs [--pkcs11-lib LIB] [--pin-file F | --pin-env V] [--json]
 * [pkcs11:URI | FILE.pem]`: prints the certificates and keys on a token (or in a PEM file), each
 * with the URI to paste into the schedule, the serial in hex and decimal, subject, issuer and
 * not-after. The native PKCS#11 binding loads only for a pkcs11: target.
 */
import { parseArgs } from 'node:util';
import { AgentError, isAgentError, type ErrorCode } from '../errors.js';
import { listPemFile, listPkcs11, type FileListing, type ListedObject, type TokenListing } from '../keys/pkcs11/inventory.js';
import { classifyKeySource } from '../keys/sources/index.js';
import type { PasswordSource } from '../keys/options.js';
import { EXIT, type CommandIO } from './io.js';

const USAGE = `usage: rolesanywhere-agent list-certs [--pkcs11-lib LIB] [--pin-file FILE | --pin-env VAR] [--json] [pkcs11:URI | FILE.pem]
       rolesanywhere-agent list-certs [--json] ssh-agent:[SOCKET] [CERT.pem ...]

Lists the certificates and keys on a PKCS#11 token (default: every token of the module, pkcs11:)
or in a PEM file, with the URI to use as certificate: / private_key: in the schedule.
With ssh-agent: (the agent in SSH_AUTH_SOCK, or the socket named), lists the agent's keys and
which of the certificate files each one matches.
`;

const INPUT_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ARGUMENT_INVALID',
  'CONFIG_INVALID',
  'FILE_UNREADABLE',
  'CERTIFICATE_INVALID',
  'PKCS11',
  'PKCS11_PIN',
  'PKCS11_OBJECT_NOT_FOUND',
  'KEY_MISMATCH',
]);

function certLines(c: NonNullable<ListedObject['certificate']>, indent: string): string[] {
  return [
    `${indent}subject    ${c.subject}`,
    `${indent}issuer     ${c.issuer}`,
    `${indent}serial     ${c.serialHex} (decimal ${c.serialDecimal})`,
    `${indent}not after  ${c.notAfter}`,
  ];
}

const WORDS: Record<string, string> = { cert: 'certificate', private: 'private key', public: 'public key' };

export function formatTokenListing(l: TokenListing): string {
  const lines: string[] = [`module ${l.module}`];
  for (const t of l.tokens) {
    lines.push('', `token "${t.label}" (manufacturer ${t.manufacturer}, model ${t.model}, serial ${t.serial}, slot ${t.slotId})`, `  ${t.uri}`);
    if (!t.objects.length) lines.push('  (no matching certificates or keys)');
    for (const o of t.objects) {
      lines.push('', `  ${WORDS[o.class] ?? o.class} "${o.label}" id=${o.id || '(none)'}${o.key ? ` ${o.key}` : ''}`, `    ${o.uri}`);
      if (o.certificate) lines.push(...certLines(o.certificate, '    '));
    }
  }
  if (l.note) lines.push('', `note: ${l.note}`);
  return lines.join('\n') + '\n';
}

export function formatFileListing(l: FileListing): string {
  const lines: string[] = [`file ${l.file}`];
  for (const c of l.certificates) {
    lines.push('', `  certificate #${c.index}`, ...certLines(c, '    '));
  }
  for (const k of l.keys) lines.push('', `  private key #${k.index} ${k.key}`);
  return lines.join('\n') + '\n';
}

export async function listCertsCommand(args: string[], io: CommandIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        'pkcs11-lib': { type: 'string' },
        'pin-file': { type: 'string' },
        'pin-env': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    io.stderr.write(`list-certs: ${(e as Error).message}\n${USAGE}`);
    return EXIT.BAD_INPUT;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return EXIT.OK;
  }
  const source = positionals[0] === undefined ? undefined : classifyKeySource(positionals[0]);
  if (source?.inventory) {
    if (values['pkcs11-lib'] !== undefined || values['pin-file'] !== undefined || values['pin-env'] !== undefined) {
      io.stderr.write(`list-certs: --pkcs11-lib, --pin-file and --pin-env apply to pkcs11: URIs, not to ${positionals[0]}\n${USAGE}`);
      return EXIT.BAD_INPUT;
    }
    try {
      const inv = await source.inventory(positionals[0]!, positionals.slice(1), io.env);
      io.stdout.write(values.json ? JSON.stringify(inv.listing, null, 2) + '\n' : inv.text);
      return EXIT.OK;
    } catch (e) {
      io.stderr.write(`list-certs: ${isAgentError(e) ? e.describe() : ((e as Error)?.message ?? String(e))}\n`);
      return isAgentError(e) ? (INPUT_ERRORS.has(e.code) ? EXIT.BAD_INPUT : e.retryable ? EXIT.UNAVAILABLE : EXIT.INTERNAL) : EXIT.INTERNAL;
    }
  }
  if (positionals.length > 1) {
    io.stderr.write(`list-certs: one target at most, got ${positionals.length}\n${USAGE}`);
    return EXIT.BAD_INPUT;
  }
  if (values['pin-file'] !== undefined && values['pin-env'] !== undefined) {
    io.stderr.write(`list-certs: give --pin-file or --pin-env, not both\n${USAGE}`);
    return EXIT.BAD_INPUT;
  }
  const target = positionals[0] ?? 'pkcs11:';
  const pin: PasswordSource | undefined =
    values['pin-file'] !== undefined ? { file: values['pin-file'] } : values['pin-env'] !== undefined ? { env: values['pin-env'] } : undefined;
  const warnings: string[] = [];
  try {
    if (classifyKeySource(target).kind === 'pkcs11') {
      const listing = await listPkcs11(target, { pkcs11Lib: values['pkcs11-lib'], pin, env: io.env, logger: (_level, msg) => warnings.push(msg) });
      for (const w of warnings) io.stderr.write(`list-certs: warning: ${w}\n`);
      io.stdout.write(values.json ? JSON.stringify(listing, null, 2) + '\n' : formatTokenListing(listing));
    } else {
      if (values['pkcs11-lib'] !== undefined || pin) {
        throw new AgentError('ARGUMENT_INVALID', `--pkcs11-lib, --pin-file and --pin-env apply to pkcs11: URIs, not to the file ${target}`);
      }
      const listing = listPemFile(target);
      io.stdout.write(values.json ? JSON.stringify(listing, null, 2) + '\n' : formatFileListing(listing));
    }
    return EXIT.OK;
  } catch (e) {
    for (const w of warnings) io.stderr.write(`list-certs: warning: ${w}\n`);
    if (isAgentError(e)) {
      io.stderr.write(`list-certs: ${e.describe()}\n`);
      return INPUT_ERRORS.has(e.code) ? EXIT.BAD_INPUT : e.retryable ? EXIT.UNAVAILABLE : EXIT.INTERNAL;
    }
    io.stderr.write(`list-certs: ${(e as Error)?.message ?? String(e)}\n`);
    return EXIT.INTERNAL;
  }
}
