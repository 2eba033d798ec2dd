/**
 * `import` reads the AWS config file as botocore does: for real config shapes, the
 * credential_process and region of every profile are what botocore's own config loader
 * (botocore.configloader.load_config, the AWS CLI's reader) returns for the same file.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importSchedule, parseAwsConfig, profileNameOf } from '../../src/cli/import.js';
import { requireTools } from '../helpers/prerequisites.js';
import { makeTempDir } from '../helpers/tmp.js';

const TA = 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/6f1c3a52-8a7e-4c1d-9a6e-2d4b8f0e1a11';
const PA = 'arn:aws:rolesanywhere:eu-west-1:111122223333:profile/0b9d2e47-3c5f-4e8a-b1d2-7f6a5c4e3d22';
const ROLE = 'arn:aws:iam::111122223333:role/app';
const HELPER = 'aws_signing_helper credential-process';

interface Shape {
  name: string;
  config: string;
}

const SHAPES: Shape[] = [
  {
    name: 'a long credential_process over continuation lines with a blank line between two groups of flags',
    config: `[profile app]
region = eu-west-1
credential_process = ${HELPER}
    --certificate /etc/pki/host.pem --private-key /etc/pki/host.key

    --trust-anchor-arn ${TA} --profile-arn ${PA} --role-arn ${ROLE}
output = json
`,
  },
  {
    name: 'options indented under their section header (as some generators write them)',
    config: `[profile app]
  region = eu-west-1
  credential_process = ${HELPER} --certificate /c.pem --private-key /k.pem --trust-anchor-arn ${TA} --profile-arn ${PA} --role-arn ${ROLE}
`,
  },
  {
    name: 'a nested s3 = sub-section before the credential_process, and a comment inside a continued value',
    config: `[default]
s3 =
  max_concurrent_requests = 20
  multipart_threshold = 64MB

region = us-east-1
credential_process = ${HELPER} --certificate /c.pem --private-key /k.pem
# the ARNs of the production account
  --trust-anchor-arn ${TA} --profile-arn ${PA} --role-arn ${ROLE}
`,
  },
  {
    name: 'a header with text after its closing bracket, and sso-session and services sections around it',
    config: `[sso-session corp]
sso_region = eu-west-1
[profile app] (managed by ansible)
credential_process = ${HELPER} --certificate /c.pem --private-key /k.pem --trust-anchor-arn ${TA} --profile-arn ${PA} --role-arn ${ROLE}
[services local]
s3 =
  endpoint_url = http://127.0.0.1:9000
`,
  },
];

// botocore's reading of each file: profile → the two values import uses.
const BOTOCORE = `
import json, sys
from botocore.configloader import load_config
out = []
for path in json.load(sys.stdin):
    profiles = load_config(path)['profiles']
    out.append({name: {k: v for k, v in values.items() if k in ('credential_process', 'region')} for name, values in profiles.items()})
print(json.dumps(out))
`;

/** What import reads: profile → credential_process and region (first section of a name wins, as import takes it). */
function ours(config: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const s of parseAwsConfig(config)) {
    const name = profileNameOf(s.header);
    if (name === undefined || name in out) continue;
    const kept: Record<string, string> = {};
    for (const k of ['credential_process', 'region']) if (s.values[k] !== undefined) kept[k] = s.values[k]!;
    out[name] = kept;
  }
  return out;
}

describe('import: reading real AWS config shapes as botocore reads them', function () {
  this.timeout(60_000);
  let botocore: Record<string, Record<string, string>>[];
  let cleanup: () => void;

  before(() => {
    requireTools('botocore');
    const tmp = makeTempDir('ra-import-botocore-');
    cleanup = tmp.cleanup;
    const paths = SHAPES.map((s, i) => {
      const p = join(tmp.dir, `config${i}`);
      writeFileSync(p, s.config, { mode: 0o600 });
      return p;
    });
    botocore = JSON.parse(execFileSync('/usr/bin/python3', ['-c', BOTOCORE], { input: JSON.stringify(paths), encoding: 'utf8', timeout: 30_000 }));
  });
  after(() => cleanup?.());

  SHAPES.forEach((shape, i) => {
    it(`${shape.name}: the same credential_process and region as botocore, and a translated profile`, () => {
      const expected = botocore[i]!;
      expect(Object.keys(expected).length, 'botocore found profiles').to.be.greaterThan(0);
      expect(ours(shape.config), 'import vs botocore').to.deep.equal(expected);
      const r = importSchedule(shape.config, 'config', { env: {}, home: '/home/u' });
      expect(
        r.skipped.map((s) => `${s.name}: ${s.reason}`),
        'profiles not translated',
      ).to.deep.equal([]);
      expect(
        r.profiles.map((p) => p.name),
        'translated profiles',
      ).to.deep.equal(Object.keys(expected).filter((n) => expected[n]!['credential_process'] !== undefined));
    });
  });
});
