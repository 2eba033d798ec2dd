import { expect } from 'chai';
import { didYouMean, levenshtein, PROFILE_KEYS, unknownKeyHint } from '../../src/config/keys.js';

describe('did-you-mean for unknown keys', () => {
  const rows: [string, string | undefined][] = [
    ['regoin', 'region'],
    ['role_ar', 'role_arn'],
    ['certficate', 'certificate'],
    ['roleArn', 'role_arn'],
    ['session-duration', 'session_duration'],
    ['SessionDuration', 'session_duration'],
    ['fip', 'fips'],
    ['colour', undefined],
    ['x', undefined],
    ['certificates_and_keys', undefined],
  ];
  for (const [key, expected] of rows) {
    it(`suggests ${expected === undefined ? 'nothing' : JSON.stringify(expected)} for ${JSON.stringify(key)}`, () => {
      expect(didYouMean(key, PROFILE_KEYS)).to.equal(expected);
    });
  }

  it('measures edit distance as insertions, deletions and substitutions', () => {
    expect([levenshtein('kitten', 'sitting'), levenshtein('', 'abc'), levenshtein('same', 'same')]).to.deep.equal([3, 3, 0]);
  });

  it('says where a key belongs when it is valid elsewhere', () => {
    expect(unknownKeyHint('role_arn', 'top')).to.equal('"role_arn" belongs in a profile or in defaults:');
    expect(unknownKeyHint('log_level', 'profile')).to.equal('"log_level" belongs at the top level');
  });

  it('refuses inline secrets and merge keys with a reason rather than a suggestion', () => {
    expect(unknownKeyHint('pkcs11_pin', 'profile')).to.match(/holds no secrets: use pkcs11_pin_file or pkcs11_pin_env/);
    expect(unknownKeyHint('<<', 'profile')).to.match(/merge keys are not supported/);
  });
});
