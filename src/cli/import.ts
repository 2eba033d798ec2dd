/**
 * `import [--config-file FILE]`: reads the AWS config file, finds the profiles whose
 * `credential_process` runs `aws_signing_helper credential-process …` (or ours), and prints an
 * equivalent schedule — values every profile shares hoisted into `defaults:` — so a user can move
 * from one helper process per CLI call to one agent. Profiles it cannot translate (a certificate
 * picked from an OS store, a TPM key file, an unparsable command line) are listed as comments with
 * the reason. The printed schedule is checked with parseSchedule before it is printed; a secret
 * found on a command line (--pkcs8-password, a PIN in a pkcs11: URI) is never echoed.
 *
 * The config file is read by the credentials file's reader in its `config` dialect, the way botocore
 * reads it (Python's RawConfigParser: comments only at the start of a line, `=` or `:` separators,
 * lower-cased keys, continuation lines indented deeper than their key, blank lines inside a value);
 * a `[profile NAME]` header is split like a shell word, and the command line the way botocore
 * splits it on POSIX (shlex.split). The `ini` package is not used: it cuts values at `;`/`#` and
 * nests dotted section names, both of which change what botocore would run.
 */
import { classifyKeySource, isNonFileSource } from '../keys/sources/index.js';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify as yamlScalar } from 'yaml';
import { ConfigError, parseSchedule, PROFILE_KEYS, formatDuration, type ProfileKey } from '../config/index.js';
import { readSections } from '../credentials-file/index.js';
import { profileNameProblem } from '../credentials-file/profile-name.js';
import { EXIT, type CommandIO } from './io.js';
import { escapeControls } from '../log/escape-controls.js';
import { table } from '../lookup.js';
import { SETTINGS } from '../config/profile/catalogue.js';
import { isTpmHandle, showTpmHandle, TPM_ROUTE_HINT } from '../keys/tpm.js';

export const IMPORT_HELP = `Usage: rolesanywhere-agent import [--config-file FILE]

Reads the AWS config file (default: $AWS_CONFIG_FILE, else ~/.aws/config), finds the profiles whose
credential_process runs 'aws_signing_helper credential-process …' (or 'rolesanywhere-agent
credential-process …'), and prints an equivalent schedule on stdout, with the values every profile
shares in defaults:. Profiles that cannot be translated are listed as comments with the reason.

  rolesanywhere-agent import > agent.yaml && rolesanywhere-agent validate --config agent.yaml

Exit codes: 0 printed a schedule, 2 the file is unreadable or no profile could be translated.`;

/** One section of the AWS config file, as botocore's parser sees it. */
export interface ConfigSection {
  /** The text between the brackets, as written. */
  header: string;
  /** 1-based line of the header. */
  line: number;
  /** Lower-cased keys (the first of a repeated key); a value spread over continuation lines keeps its newlines. */
  values: Record<string, string>;
}

/** Sections in file order; a repeated header yields two sections (botocore rejects such a file). */
export function parseAwsConfig(text: string): ConfigSection[] {
  // A byte order mark is read past: botocore fails on such a file, but the profiles in it are plain.
  return readSections(text, 'config').map((s) => ({
    header: s.name,
    line: s.line,
    values: Object.fromEntries([...s.keys].map(([k, v]) => [k, v.value])),
  }));
}

/**
 * Splits a command line like Python's shlex.split (POSIX mode): whitespace separates words,
 * single quotes are literal, double quotes honour \" and \\, a backslash outside quotes escapes
 * the next character. Throws on an unclosed quote.
 */
export function shellSplit(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error('no closing quotation');
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      inWord = true;
      let closed = false;
      for (i++; i < line.length; i++) {
        const d = line[i]!;
        if (d === '"') {
          closed = true;
          break;
        }
        if (d === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
        else word += d;
      }
      if (!closed) throw new Error('no closing quotation');
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new Error('no escaped character');
      word += line[++i];
      inWord = true;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The profile a section defines (`[default]`, `[profile NAME]`), or undefined for other sections. */
export function profileNameOf(header: string): string | undefined {
  if (header === 'default') return 'default';
  if (!header.startsWith('profile')) return undefined;
  let parts: string[];
  try {
    parts = shellSplit(header);
  } catch {
    return undefined;
  }
  return parts.length === 2 && parts[0] === 'profile' ? parts[1] : undefined;
}

type Value = string | number | boolean;
export type ProfileValues = Partial<Record<ProfileKey, Value>>;

export type Translation =
  | { ok: true; values: ProfileValues; notes: string[] }
  | { ok: false; reason: string; foreign?: boolean };

// From the settings catalogue: a flag added there is translated here too. --session-duration has its
// own whole-seconds rule below.
const flagged = (type: 'string' | 'boolean') =>
  SETTINGS.flatMap((s) => ('flag' in s && s.flag.type === type && !('parse' in s.flag) ? [[s.flag.name, s.key as ProfileKey] as const] : []));
const STRING_FLAGS = table<ProfileKey>(Object.fromEntries(flagged('string')));
const BOOLEAN_FLAGS = table<ProfileKey | null>({ ...Object.fromEntries(flagged('boolean')), debug: null });
/** Flags of the official helper with no counterpart here: the profile is left as a comment. */
const UNTRANSLATABLE = table({
  'cert-selector': 'picks a certificate from the OS certificate store (--cert-selector); export the certificate and key to files, or use a pkcs11: URI',
  'system-store-name': 'reads the Windows certificate store (--system-store-name); export the certificate and key to files',
  'use-latest-expiring-certificate': 'picks a certificate from a store (--use-latest-expiring-certificate); name one certificate file or pkcs11: URI instead',
  'tpm-key-password': 'uses a TPM key file (--tpm-key-password); put the key on a tpm2-pkcs11 token and use a pkcs11: URI (see docs/tpm.md)',
  'no-tpm-key-password': 'uses a TPM key file (--no-tpm-key-password); put the key on a tpm2-pkcs11 token and use a pkcs11: URI (see docs/tpm.md)',
});

function basename(path: string): string {
  return path.split(/[\\/]/).pop()!.toLowerCase().replace(/\.exe$/, '');
}

/** The arguments after `credential-process`, or why this command line is not one of ours. */
function helperArguments(argv: string[]): string[] | { reason: string; foreign: boolean } {
  const program = basename(argv[0] ?? '');
  let rest: string[];
  if (program === 'aws_signing_helper' || program === 'rolesanywhere-agent') rest = argv.slice(1);
  else if ((program === 'node' || program === 'npx') && argv[1] && ['main.js', 'rolesanywhere-agent'].includes(basename(argv[1]))) rest = argv.slice(2);
  else return { reason: `its credential_process runs ${program || 'nothing'}, not aws_signing_helper`, foreign: true };
  if (rest[0] !== 'credential-process') return { reason: `its credential_process runs ${`${program} ${rest[0] ?? ''}`.trimEnd()}, not credential-process`, foreign: false };
  return rest.slice(1);
}

/** A pkcs11: URI without its pin-value attribute (RFC 7512 allows it in the path or the query). */
function withoutPin(uri: string): { uri: string; hadPin: boolean } {
  if (classifyKeySource(uri).kind !== 'pkcs11') return { uri, hadPin: false };
  const [path = '', query] = uri.slice('pkcs11:'.length).split('?', 2);
  const isPin = (a: string) => a.toLowerCase().startsWith('pin-value=');
  const pathParts = path.split(';');
  const queryParts = query === undefined ? [] : query.split('&');
  const hadPin = pathParts.some(isPin) || queryParts.some(isPin);
  const keptQuery = queryParts.filter((a) => !isPin(a));
  const rebuilt = `pkcs11:${pathParts.filter((a) => !isPin(a)).join(';')}${keptQuery.length ? `?${keptQuery.join('&')}` : ''}`;
  return { uri: hadPin ? rebuilt : uri, hadPin };
}

/** Translates one credential_process command line (already split) into schedule values. */
export function translateCommand(argv: string[]): Translation {
  const args = helperArguments(argv);
  if (!Array.isArray(args)) return { ok: false, ...args };
  const values: ProfileValues = {};
  const notes: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const m = /^--?([A-Za-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    // The word itself is not echoed: it could be a secret that followed a flag we misread.
    if (!m) return { ok: false, reason: `its command line has an unexpected argument (argument ${i + 1} after credential-process)` };
    const flag = m[1]!;
    const inline = m[2];
    const takeValue = (): string | undefined => (inline !== undefined ? inline : args[++i]);
    if (flag in UNTRANSLATABLE) return { ok: false, reason: `it ${UNTRANSLATABLE[flag]}` };
    if (flag in BOOLEAN_FLAGS) {
      const on = inline === undefined || inline === 'true';
      const key = BOOLEAN_FLAGS[flag];
      if (key && on) values[key] = true;
      if (flag === 'debug') notes.push('--debug dropped: use log_level: debug (or run --log-level debug) instead');
      if (flag === 'no-verify-ssl' && on) notes.push('no_verify_ssl: true turns TLS verification off; use ca_bundle: for a private CA instead');
      continue;
    }
    if (flag === 'pkcs8-password') {
      if (inline === undefined) i++;
      notes.push('its key password was on the command line (--pkcs8-password), where every user of the host can read it: write it to a file only the agent can read and set private_key_password_file:');
      continue;
    }
    const key = STRING_FLAGS[flag];
    if (key) {
      let v = takeValue();
      if (v === undefined) return { ok: false, reason: `--${flag} has no value` };
      if ((key === 'certificate' || key === 'private_key') && isTpmHandle(v)) {
        return { ok: false, reason: `its ${key === 'certificate' ? 'certificate' : 'private key'} is a TPM key handle (${showTpmHandle(v)}), which this agent does not support: ${TPM_ROUTE_HINT}` };
      }
      const pin = withoutPin(v);
      if (pin.hadPin) {
        v = pin.uri;
        notes.push(`the ${key} URI held the token PIN (pin-value=), left out here: write the PIN to a file only the agent can read and set pkcs11_pin_file:`);
      }
      if (['certificate', 'private_key', 'intermediates', 'ca_bundle', 'pkcs11_lib', 'private_key_password_file', 'pkcs11_pin_file'].includes(key) && !isAbsolute(v) && !isNonFileSource(v) && !v.startsWith('~/')) {
        notes.push(`${key} "${v}" is relative: credential_process read it from the calling tool's directory, the schedule reads it from its own — make it absolute`);
      }
      values[key] = v;
      continue;
    }
    if (flag === 'session-duration') {
      const v = takeValue();
      if (v === undefined || !/^\d+$/.test(v)) return { ok: false, reason: `--session-duration "${v ?? ''}" is not a whole number of seconds` };
      values.session_duration = Number(v);
      continue;
    }
    if (flag === 'help' || flag === 'h') continue;
    return { ok: false, reason: `its command line has --${flag}, which this agent does not know` };
  }
  return { ok: true, values, notes };
}

export interface ImportedProfile {
  name: string;
  line: number;
  values: ProfileValues;
  notes: string[];
}

export interface SkippedProfile {
  name: string;
  line: number;
  reason: string;
  /** True when the command is not a Roles Anywhere helper at all (left alone, not listed in the schedule). */
  foreign: boolean;
}

export interface ImportResult {
  /** The schedule text, or undefined when no profile could be translated. */
  yaml?: string;
  profiles: ImportedProfile[];
  skipped: SkippedProfile[];
}

/** A YAML scalar for a schedule value; `${` is escaped so nothing is interpolated from the agent's environment. */
function scalar(v: Value): string {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return formatDuration(v);
  if (typeof v !== 'string') return String(v);
  return yamlScalar(v.replaceAll('${', () => '$${'), { lineWidth: 0 }).trimEnd();
}

function key(name: string): string {
  return yamlScalar(name).trimEnd();
}

function entryLines(values: ProfileValues, indent: string): string[] {
  return PROFILE_KEYS.filter((k) => values[k] !== undefined).map((k) => `${indent}${k}: ${scalar(values[k]!)}`);
}

/** Values every profile has with the same value (when there are at least two profiles), but never the role. */
function shared(profiles: ImportedProfile[]): ProfileValues {
  const out: ProfileValues = {};
  if (profiles.length < 2) return out;
  for (const k of PROFILE_KEYS) {
    if (k === 'role_arn') continue;
    const first = profiles[0]!.values[k];
    if (first !== undefined && profiles.every((p) => p.values[k] === first)) out[k] = first;
  }
  return out;
}

function render(profiles: ImportedProfile[], skipped: SkippedProfile[], source: string): string {
  const defaults = shared(profiles);
  const out = [
    `# rolesanywhere-agent schedule, translated by 'rolesanywhere-agent import' from the credential_process`,
    `# lines of ${source}. Check it with: rolesanywhere-agent validate --config FILE`,
    '#',
    '# Once the agent keeps these profiles filled, remove their credential_process lines from the config',
    '# file: the AWS CLI and SDKs read the credentials file first, so the helper would no longer run anyway.',
    '',
    '# The credentials file to write (default: $AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials).',
    '# credentials_file: ~/.aws/credentials',
    '',
  ];
  if (Object.keys(defaults).length) out.push('defaults:', ...entryLines(defaults, '  '), '');
  out.push('profiles:');
  for (const p of profiles) {
    for (const n of p.notes) out.push(`  # ${p.name}: ${n}`);
    const own: ProfileValues = {};
    for (const k of PROFILE_KEYS) if (p.values[k] !== undefined && defaults[k] === undefined) own[k] = p.values[k];
    const lines = entryLines(own, '    ');
    out.push(lines.length ? `  ${key(p.name)}:` : `  ${key(p.name)}: {}`, ...lines);
  }
  const listed = skipped.filter((s) => !s.foreign);
  if (listed.length) {
    out.push('', '# Not translated:');
    for (const s of listed) out.push(`# - profile "${s.name}" (line ${s.line}): ${s.reason}`);
  }
  return out.join('\n') + '\n';
}

/** Why parseSchedule refuses one profile on its own, or undefined when it accepts it. */
function profileProblem(p: ImportedProfile, deps: { env: Record<string, string | undefined>; home: string }): string | undefined {
  try {
    parseSchedule(render([p], [], 'import'), 'import', deps);
    return undefined;
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path.replace(/^profiles\.[^.]+\./, '')}: ${i.message}`).join('; ');
    throw e;
  }
}

/** Translates a whole config file. Pure apart from parseSchedule's checks (no filesystem). */
export function importSchedule(configText: string, source: string, deps: { env: Record<string, string | undefined>; home: string }): ImportResult {
  const profiles: ImportedProfile[] = [];
  const skipped: SkippedProfile[] = [];
  const seen = new Set<string>();
  for (const section of parseAwsConfig(configText)) {
    const parsedName = profileNameOf(section.header);
    const command = section.values['credential_process'];
    if (command === undefined) continue;
    // Names go to stderr and into YAML comments: no raw control characters, bounded.
    const name = escapeControls(parsedName ?? section.header, 100);
    const skip = (reason: string, foreign = false) => skipped.push({ name, line: section.line, reason, foreign });
    if (parsedName === undefined) {
      // botocore shlex-splits the header and ignores anything but [default] and [profile NAME]:
      // such a section was silently dropped here although it runs a credential_process.
      skip(`its header [${name}] does not name one profile (the AWS CLI ignores such a section): write [profile NAME] with a single name, quoted if it has spaces`);
      continue;
    }
    if (seen.has(name)) {
      skip('it is defined twice (the AWS CLI rejects such a file); only the first one was read');
      continue;
    }
    seen.add(name);
    let argv: string[];
    try {
      argv = shellSplit(command);
    } catch (e) {
      skip(`its credential_process cannot be split into words (${(e as Error).message})`);
      continue;
    }
    const t = translateCommand(argv);
    if (!t.ok) {
      skip(t.reason, t.foreign ?? false);
      continue;
    }
    const nameProblem = profileNameProblem(name);
    if (nameProblem) {
      skip(`its name is not a section name the agent can write: ${nameProblem.message} — ${nameProblem.hint}`);
      continue;
    }
    const p: ImportedProfile = { name, line: section.line, values: t.values, notes: t.notes };
    const problem = profileProblem(p, deps);
    if (problem) skip(`the schedule would refuse it: ${problem}`);
    else profiles.push(p);
  }
  if (!profiles.length) return { profiles, skipped };
  const yaml = render(profiles, skipped, source);
  parseSchedule(yaml, 'import', deps); // every profile passed alone; together they must pass too
  return { yaml, profiles, skipped };
}

export async function importCommand(args: string[], io: CommandIO): Promise<number> {
  let values;
  try {
    values = parseArgs({ args, options: { 'config-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (e) {
    io.stderr.write(`rolesanywhere-agent import: ${(e as Error).message} — see --help\n`);
    return EXIT.BAD_INPUT;
  }
  if (values.help) {
    io.stdout.write(IMPORT_HELP + '\n');
    return EXIT.OK;
  }
  const home = io.env['HOME'] ?? homedir();
  const path = values['config-file'] ?? io.env['AWS_CONFIG_FILE'] ?? join(home, '.aws', 'config');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
    io.stderr.write(`rolesanywhere-agent import: the AWS config file ${path} ${why} — give its path with --config-file\n`);
    return EXIT.BAD_INPUT;
  }
  const result = importSchedule(text, path, { env: io.env, home });
  for (const s of result.skipped) {
    io.stderr.write(`rolesanywhere-agent import: profile "${s.name}" ${s.foreign ? 'left alone' : 'not translated'}: ${s.reason}\n`);
  }
  if (!result.yaml) {
    io.stderr.write(`rolesanywhere-agent import: no profile in ${path} runs 'aws_signing_helper credential-process' in a way this agent can take over\n`);
    return EXIT.BAD_INPUT;
  }
  io.stdout.write(result.yaml);
  io.stderr.write(`rolesanywhere-agent import: ${result.profiles.length} profile(s) translated; check with 'rolesanywhere-agent validate --config FILE'\n`);
  return EXIT.OK;
}
