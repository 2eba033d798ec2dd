import { fromIni } from '@aws-sdk/credential-provider-ini';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Credentials } from '../../src/credentials.js';
import { replaceProfiles } from '../../src/credentials-file/replace.js';
import { makeTempDir } from '../helpers/tmp.js';
import { cleanEnv } from './children.js';
import { requireTools } from '../helpers/prerequisites.js';

// The real readers: the AWS CLI v2 and boto3 from Debian (the ones on PATH may be other versions).
const AWS_CLI = '/usr/bin/aws';
const PYTHON = '/usr/bin/python3';

interface Entry {
  name: string;
  content: string;
  profile: string;
  /** Foreign profiles that must read as before: name → access key id. */
  foreign?: Record<string, string>;
  /** Region botocore must read from the profile. */
  region?: string;
  /** botocore and the AWS CLI refuse this file whatever we do (a byte order mark): the agent refuses to write into it. */
  botocoreRefuses?: boolean;
}

const CORPUS: Entry[] = [
  {
    name: 'comments, blank lines and CRLF line ends',
    content: '# top comment\r\n\r\n; another\r\n[default]\r\nregion = eu-west-1\r\n\r\n[dev]\r\n# keep me\r\naws_access_key_id = OLD\r\n\r\n',
    profile: 'dev',
  },
  {
    name: 'no final newline after a static profile',
    content: '[static]\naws_access_key_id = AKIASTATICEXAMPLE\naws_secret_access_key = static/secret+key=\n[dev]\nregion = us-east-1',
    profile: 'dev',
    foreign: { static: 'AKIASTATICEXAMPLE' },
  },
  {
    name: 'a stale aws_security_token that botocore would read first',
    content: '[dev]\naws_access_key_id = OLD\naws_secret_access_key = OLD\naws_session_token = OLD\naws_security_token = STALE\n',
    profile: 'dev',
  },
  {
    name: '[default] as the last section',
    content: '[one]\naws_access_key_id = AKIAONEEXAMPLE\naws_secret_access_key = one/secret\n\n[default]\naws_access_key_id = OLD\n',
    profile: 'default',
    foreign: { one: 'AKIAONEEXAMPLE' },
  },
  {
    name: 'a profile with a region and an output format',
    content: '[dev]\nregion = ap-southeast-2\noutput = json\n',
    profile: 'dev',
    region: 'ap-southeast-2',
  },
  {
    name: 'a header with spaces and a trailing comment, keys in upper case with ":"',
    content: '  [dev]   # managed by the agent\nAWS_ACCESS_KEY_ID: OLD\nAws_Secret_Access_Key = OLD\n',
    profile: 'dev',
  },
  {
    name: 'a new dotted profile appended to other profiles',
    content: '[one]\naws_access_key_id = AKIAONEEXAMPLE\naws_secret_access_key = one/secret\n',
    profile: 'team.dev-1',
    foreign: { one: 'AKIAONEEXAMPLE' },
  },
  {
    name: 'a [DEFAULT] section, whose keys botocore gives every profile (a new one too)',
    content: '[DEFAULT]\nregion = ap-south-1\n\n[one]\naws_access_key_id = AKIAONEEXAMPLE\naws_secret_access_key = one/secret\n',
    profile: 'dev',
    foreign: { one: 'AKIAONEEXAMPLE' },
    region: 'ap-south-1',
  },
  {
    name: 'a UTF-8 byte order mark',
    content: '\uFEFF[dev]\nregion = eu-west-1\n',
    profile: 'dev',
    botocoreRefuses: true,
  },
];

/** Realistic shapes: a session token of ~800 base64 characters holding '+', '/' and '='. */
function realistic(): Credentials {
  const b64 = (n: number) => randomBytes(n).toString('base64');
  return {
    accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: `a/b+${b64(27)}`,
    sessionToken: `IQoJb3JpZ2luX2VjE/+${b64(601)}`,
    expiration: new Date(Date.UTC(2026, 10, 22, 1, 0, 0)),
  };
}

interface Read {
  AccessKeyId?: string;
  SecretAccessKey?: string;
  SessionToken?: string;
  Region?: string;
  error?: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

// Reads every job with boto3 in one interpreter (each with its own session and file).
const BOTO3 = `
import json, os, sys
import boto3
out = []
for job in json.load(sys.stdin):
    os.environ['AWS_SHARED_CREDENTIALS_FILE'] = job['file']
    os.environ['AWS_CONFIG_FILE'] = job['config']
    try:
        s = boto3.session.Session(profile_name=job['profile'])
        c = s.get_credentials()
        f = c.get_frozen_credentials() if c else None
        out.append({'AccessKeyId': f.access_key, 'SecretAccessKey': f.secret_key, 'SessionToken': f.token, 'Region': s.region_name} if f else {'error': 'no credentials'})
    except Exception as e:
        out.append({'error': type(e).__name__})
print(json.dumps(out))
`;

describe('real readers read back what the agent wrote', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => void;
  const written = new Map<string, Credentials>();
  const refusals = new Map<string, unknown>();
  const cli = new Map<string, Read>();
  const boto = new Map<string, Read>();
  const botoBefore = new Map<string, Read>();
  const js = new Map<string, Read>();
  const files = new Map<string, { file: string; config: string }>();

  before(async () => {
    requireTools('awscli', 'boto3');
    ({ dir, cleanup } = makeTempDir('ra-cf-readers-'));
    const jobs: { key: string; file: string; config: string; profile: string }[] = [];
    const before: typeof jobs = [];
    for (const [i, e] of CORPUS.entries()) {
      const home = join(dir, `case${i}`);
      mkdirSync(join(home, '.aws'), { recursive: true, mode: 0o700 });
      const file = join(home, '.aws', 'credentials');
      const config = join(home, '.aws', 'config');
      writeFileSync(file, e.content, { mode: 0o600 });
      writeFileSync(config, '');
      files.set(e.name, { file, config });
      if (e.botocoreRefuses) before.push({ key: e.name, file, config, profile: e.profile });
    }
    // boto3 on the untouched files first (only where we expect it to refuse them).
    const pyEnv = cleanEnv({ HOME: dir });
    if (before.length) {
      const r = await run(PYTHON, ['-c', BOTO3], pyEnv, JSON.stringify(before));
      expect(r.code, `boto3 before: ${r.stderr}`).to.equal(0);
      (JSON.parse(r.stdout) as Read[]).forEach((x, i) => botoBefore.set(before[i]!.key, x));
    }
    for (const e of CORPUS) {
      const { file, config } = files.get(e.name)!;
      const c = realistic();
      if (e.botocoreRefuses) {
        refusals.set(e.name, await replaceProfiles(file, [{ profile: e.profile, credentials: c }]).then(() => undefined, (x: unknown) => x));
        continue;
      }
      written.set(e.name, c);
      await replaceProfiles(file, [{ profile: e.profile, credentials: c }]);
      jobs.push({ key: e.name, file, config, profile: e.profile });
      for (const f of Object.keys(e.foreign ?? {})) jobs.push({ key: `${e.name}/${f}`, file, config, profile: f });
    }
    const r = await run(PYTHON, ['-c', BOTO3], pyEnv, JSON.stringify(jobs));
    expect(r.code, `boto3: ${r.stderr}`).to.equal(0);
    (JSON.parse(r.stdout) as Read[]).forEach((x, i) => boto.set(jobs[i]!.key, x));

    for (const j of jobs) {
      try {
        const c = await fromIni({ profile: j.profile, filepath: j.file, configFilepath: j.config, ignoreCache: true })();
        js.set(j.key, { AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, SessionToken: c.sessionToken });
      } catch (err) {
        js.set(j.key, { error: err instanceof Error ? err.name : String(err) });
      }
    }

    // The AWS CLI takes about a second per start: a few at a time. Nothing secret on its command line.
    const queue = CORPUS.filter((e) => !e.botocoreRefuses);
    await Promise.all(
      [0, 1, 2].map(async () => {
        for (let e = queue.shift(); e; e = queue.shift()) {
          const { file, config } = files.get(e.name)!;
          const env = cleanEnv({ HOME: dir, AWS_SHARED_CREDENTIALS_FILE: file, AWS_CONFIG_FILE: config });
          const r = await run(AWS_CLI, ['configure', 'export-credentials', '--profile', e.profile, '--format', 'process'], env);
          cli.set(e.name, r.code === 0 ? (JSON.parse(r.stdout) as Read) : { error: `exit ${r.code}` });
        }
      }),
    );
  });
  after(() => cleanup?.());

  const same = (got: Read | undefined, c: Credentials, who: string) =>
    expect({ AccessKeyId: got?.AccessKeyId, SecretAccessKey: got?.SecretAccessKey, SessionToken: got?.SessionToken }, who).to.deep.equal({
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      SessionToken: c.sessionToken,
    });

  for (const e of CORPUS) {
    if (e.botocoreRefuses) {
      it(`botocore refuses ${e.name}, and the agent refuses to write into it, naming the fix and leaving the file as it was`, () => {
        expect(botoBefore.get(e.name)?.error, 'boto3').to.equal('ConfigParseError');
        const refusal = refusals.get(e.name) as { code?: string; message?: string } | undefined;
        expect([refusal?.code, /byte order mark/.test(refusal?.message ?? '')], `the agent's refusal: ${String(refusal)}`).to.deep.equal(['CREDENTIALS_FILE', true]);
        expect(readFileSync(files.get(e.name)!.file, 'utf8'), 'the file').to.equal(e.content);
      });
      continue;
    }
    it(`the AWS CLI v2 reads back ${e.name}`, () => same(cli.get(e.name), written.get(e.name)!, 'aws configure export-credentials'));
    it(`boto3 reads back ${e.name}`, () => {
      same(boto.get(e.name), written.get(e.name)!, 'boto3');
      if (e.region) expect(boto.get(e.name)?.Region, 'region read by botocore').to.equal(e.region);
    });
    it(`the JS SDK (fromIni) reads back ${e.name}`, () => same(js.get(e.name), written.get(e.name)!, 'fromIni'));
    for (const [f, akid] of Object.entries(e.foreign ?? {})) {
      it(`boto3 and the JS SDK still read the foreign profile "${f}" of ${e.name}`, () => {
        expect(boto.get(`${e.name}/${f}`)?.AccessKeyId, 'boto3').to.equal(akid);
        expect(js.get(`${e.name}/${f}`)?.AccessKeyId, 'fromIni').to.equal(akid);
      });
    }
  }
});
