/**
 * `import` must account for every section that runs a credential_process: one it cannot read as a
 * profile (`[profile d e]`, which the AWS CLI ignores too) is listed as not translated instead of
 * vanishing, and names are printed without raw control characters.
 */
import { expect } from 'chai';
import { importCommand, importSchedule } from '../../src/cli/import.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureIO } from '../helpers/io.js';
import { makeTempDir } from '../helpers/tmp.js';
import { PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN } from '../helpers/world.js';

const helper = (role: string) =>
  `credential_process = aws_signing_helper credential-process --certificate /pki/c.pem --private-key /pki/c.key --trust-anchor-arn ${TRUST_ANCHOR_ARN} --profile-arn ${PROFILE_ARN} --role-arn ${roleArn(role)}`;

const CONFIG = [
  '[profile a]', helper('a'), '',
  '[profile d e]', helper('d'), '',
  '[profile]', helper('x'), '',
  '[profile "\u001b[2Jodd"]', helper('y'), '',
  '[profile plain]', 'region = eu-west-1', '',
].join('\n');

describe('import lists every profile it did not translate', () => {
  it('a [profile d e] section, a bare [profile] and an odd name each get a line with the reason', () => {
    const r = importSchedule(CONFIG, 'config', { env: {}, home: '/h' });
    expect(r.profiles.map((p) => p.name), 'translated').to.deep.equal(['a']);
    const skipped = r.skipped.map((s) => [s.name, s.line]);
    expect(skipped, 'not translated').to.deep.equal([
      ['profile d e', 4],
      ['profile', 7],
      ['\\u001b[2Jodd', 10],
    ]);
    expect(r.skipped[0]!.reason, 'reason').to.contain('does not name one profile');
    expect(r.yaml, 'the schedule lists them').to.contain('# - profile "profile d e" (line 4)');
  });

  it('the command prints one stderr line per untranslated profile, none with a raw control character', async () => {
    const t = makeTempDir('ra-import-');
    try {
      const file = join(t.dir, 'config');
      writeFileSync(file, CONFIG);
      const io = captureIO({ HOME: t.dir });
      const code = await importCommand(['--config-file', file], io);
      expect(code, io.err()).to.equal(0);
      const lines = io.err().split('\n').filter((l) => l.includes('not translated'));
      expect(lines.length, io.err()).to.equal(3);
      expect(/[\u0000-\u0008\u000b-\u001f\u007f]/.test(io.err() + io.out()), 'raw control characters').to.equal(false);
    } finally {
      t.cleanup();
    }
  });
});
