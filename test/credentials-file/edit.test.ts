import { expect } from 'chai';
import { editCounts, editProfiles, formatExpiration, ownValues, verifyCandidate, type ProfileUpdate } from '../../src/credentials-file/edit.js';
import { catchError, creds, expectAgentError, ownLines } from './helpers.js';

const up = (profile: string, gen: number): ProfileUpdate => ({ profile, credentials: creds(profile, gen) });

interface Case {
  name: string;
  input: string;
  updates: ProfileUpdate[];
  expected: string;
}

const cases: Case[] = [
  {
    name: 'appends a profile to an empty file as a bare section',
    input: '',
    updates: [up('dev', 1)],
    expected: '[dev]\n' + ownLines('dev', 1),
  },
  {
    name: 'appends a missing profile after the other profiles, keeping them as they were',
    input: '# mine\n[default]\naws_access_key_id = AKIASTATIC\naws_secret_access_key = static\n\n',
    updates: [up('dev', 1)],
    expected: '# mine\n[default]\naws_access_key_id = AKIASTATIC\naws_secret_access_key = static\n\n[dev]\n' + ownLines('dev', 1),
  },
  {
    name: 'separates an appended profile with a newline when the file does not end with one',
    input: '[other]\nregion = eu-west-1',
    updates: [up('dev', 1)],
    expected: '[other]\nregion = eu-west-1\n[dev]\n' + ownLines('dev', 1),
  },
  {
    name: 'replaces existing keys in place and keeps region, comments and unknown keys where they were',
    input:
      '[dev]\n# comment about dev\naws_access_key_id = OLD\nregion = eu-west-1\naws_secret_access_key = OLD\n; another\n' +
      'aws_session_token = OLD\ncustom_key = 7\nx_security_token_expires = 2020-01-01T00:00:00Z\n',
    updates: [up('dev', 2)],
    expected:
      `[dev]\n# comment about dev\naws_access_key_id = ${creds('dev', 2).accessKeyId}\nregion = eu-west-1\n` +
      `aws_secret_access_key = ${creds('dev', 2).secretAccessKey}\n; another\naws_session_token = ${creds('dev', 2).sessionToken}\n` +
      `custom_key = 7\nx_security_token_expires = ${formatExpiration(creds('dev', 2).expiration)}\n`,
  },
  {
    name: 'appends missing keys after the last key line, before the blank lines and comments that lead to the next section',
    input: '[dev]\nregion = eu-west-1\n\n# the next one is static\n[static]\naws_access_key_id = S\n',
    updates: [up('dev', 1)],
    expected: '[dev]\nregion = eu-west-1\n' + ownLines('dev', 1) + '\n# the next one is static\n[static]\naws_access_key_id = S\n',
  },
  {
    name: 'appends keys right after the header of a section that holds none',
    input: '[dev]\n\n# nothing yet\n[z]\nk = v\n',
    updates: [up('dev', 1)],
    expected: '[dev]\n' + ownLines('dev', 1) + '\n# nothing yet\n[z]\nk = v\n',
  },
  {
    name: 'removes a stale aws_security_token, which botocore would read before aws_session_token',
    input: '[dev]\naws_security_token = STALE\nregion = x\n',
    updates: [up('dev', 1)],
    expected: '[dev]\nregion = x\n' + ownLines('dev', 1),
  },
  {
    name: 'removes the continuation lines of a value it replaces',
    input: '[dev]\naws_session_token = OLD\n  more-of-old\nregion = x\n',
    updates: [up('dev', 1)],
    expected: `[dev]\naws_session_token = ${creds('dev', 1).sessionToken}\nregion = x\n` + ownLines('dev', 1).split('\n').filter((l) => l && !l.startsWith('aws_session_token')).map((l) => l + '\n').join(''),
  },
  {
    name: 'keeps CRLF line ends and writes its own lines with CRLF',
    input: '[a]\r\nk = v\r\n\r\n[dev]\r\nregion = x\r\n',
    updates: [up('dev', 1), up('new', 1)],
    expected: '[a]\r\nk = v\r\n\r\n[dev]\r\nregion = x\r\n' + ownLines('dev', 1, '\r\n') + '[new]\r\n' + ownLines('new', 1, '\r\n'),
  },
  {
    name: 'uses the first line ending of a mixed file for new lines and keeps every existing one',
    input: '[a]\r\nk = v\n[dev]\nregion = x\r\n',
    updates: [up('dev', 1)],
    expected: '[a]\r\nk = v\n[dev]\nregion = x\r\n' + ownLines('dev', 1, '\r\n'),
  },
  {
    name: 'keeps a missing final newline when the edited profile is the last section',
    input: '[a]\nk = v\n[dev]\naws_access_key_id = OLD\nregion = x',
    updates: [up('dev', 1)],
    expected: `[a]\nk = v\n[dev]\naws_access_key_id = ${creds('dev', 1).accessKeyId}\nregion = x\n` + ownLines('dev', 1).replace(/^aws_access_key_id.*\n/, '').replace(/\n$/, ''),
  },
  {
    name: 'keeps a missing final newline when the replaced key is the very last line',
    input: '[dev]\nregion = x\naws_access_key_id = OLD\naws_secret_access_key = OLD\naws_session_token = OLD\nx_security_token_expires = OLD',
    updates: [up('dev', 1)],
    expected: '[dev]\nregion = x\n' + ownLines('dev', 1).replace(/\n$/, ''),
  },
  {
    name: 'recognises a header with surrounding spaces and a trailing comment',
    input: '  [dev]   # managed by the agent\nregion = x\n',
    updates: [up('dev', 1)],
    expected: '  [dev]   # managed by the agent\nregion = x\n' + ownLines('dev', 1),
  },
  {
    name: 'recognises keys in any case, with ":" or "=" and spaces around, and rewrites them in lower case',
    input: '[dev]\n\taws_session_token=OLD\nAWS_ACCESS_KEY_ID:OLD\nAws_Secret_Access_Key   =   OLD\n',
    updates: [up('dev', 1)],
    expected:
      `[dev]\n\taws_session_token = ${creds('dev', 1).sessionToken}\naws_access_key_id = ${creds('dev', 1).accessKeyId}\n` +
      `aws_secret_access_key = ${creds('dev', 1).secretAccessKey}\nx_security_token_expires = ${formatExpiration(creds('dev', 1).expiration)}\n`,
  },
  {
    name: 'reads an indented line after a key as part of that value, as botocore does, and drops it with the old value',
    input: '[dev]\naws_secret_access_key = OLD\n\taws_session_token = LOOKS-LIKE-A-KEY\n',
    updates: [up('dev', 1)],
    expected:
      `[dev]\naws_secret_access_key = ${creds('dev', 1).secretAccessKey}\naws_access_key_id = ${creds('dev', 1).accessKeyId}\n` +
      `aws_session_token = ${creds('dev', 1).sessionToken}\nx_security_token_expires = ${formatExpiration(creds('dev', 1).expiration)}\n`,
  },
  {
    name: 'leaves another profile holding the same key names untouched',
    input: '[prod]\naws_access_key_id = PROD\naws_session_token = PRODTOKEN\n[dev]\n',
    updates: [up('dev', 1)],
    expected: '[prod]\naws_access_key_id = PROD\naws_session_token = PRODTOKEN\n[dev]\n' + ownLines('dev', 1),
  },
  {
    name: 'treats [profile dev] as a different section from [dev] (that form belongs to ~/.aws/config)',
    input: '[profile dev]\nregion = x\n',
    updates: [up('dev', 1)],
    expected: '[profile dev]\nregion = x\n[dev]\n' + ownLines('dev', 1),
  },
  {
    name: 'edits [default] as a plain section, even when it comes last',
    input: '[a]\nk = v\n\n[default]\nregion = us-east-1\n',
    updates: [up('default', 3)],
    expected: '[a]\nk = v\n\n[default]\nregion = us-east-1\n' + ownLines('default', 3),
  },
  {
    name: 'edits several profiles in one batch, and a later update of the same profile wins',
    input: '[b]\n[a]\n',
    updates: [up('a', 1), up('b', 1), up('a', 2)],
    expected: '[b]\n' + ownLines('b', 1) + '[a]\n' + ownLines('a', 2),
  },
  {
    name: 'keeps the indentation of the section when appending, so botocore reads the layout as before',
    input: '[dev]\n  region = x\n    continued\n[z]\n',
    updates: [up('dev', 1)],
    expected: '[dev]\n  region = x\n    continued\n' + ownLines('dev', 1).replace(/^/gm, '  ').replace(/  $/, '') + '[z]\n',
  },
  {
    name: 'keeps a file whose target profile already holds the same values byte-identical',
    input: '[dev]\n' + ownLines('dev', 4),
    updates: [up('dev', 4)],
    expected: '[dev]\n' + ownLines('dev', 4),
  },
];

describe('editProfiles', () => {
  for (const c of cases) {
    it(c.name, () => {
      const got = editProfiles(c.input, c.updates);
      expect(JSON.stringify(got), 'edited text').to.equal(JSON.stringify(c.expected));
    });
  }

  it('edits its own last result as it edits the same text parsed afresh (the parse it reuses is that text\'s)', () => {
    const start = '# keep\n[a]\nregion = x\n\n[b]\naws_access_key_id = OLD\n';
    const first = editProfiles(start, [{ profile: 'a', credentials: creds('a', 1) }]);
    const reused = editProfiles(first, [{ profile: 'b', credentials: creds('b', 1) }, { profile: 'c', credentials: creds('c', 1) }]);
    editProfiles('[other]\nx = 1\n', []); // the last result is now another text
    const fresh = editProfiles(first, [{ profile: 'b', credentials: creds('b', 1) }, { profile: 'c', credentials: creds('c', 1) }]);
    expect(reused, 'the second edit of the first result').to.equal(fresh);
    // A text that differs from the last result by one byte is parsed as it is, not as the last result.
    const foreign = `${reused.replace('region = x', 'region = y')}`;
    const after = editProfiles(foreign, [{ profile: 'a', credentials: creds('a', 2) }]);
    expect(after).to.include('region = y').and.not.include('region = x');
    expect(after.match(/aws_access_key_id = /g)?.length, 'one key id per profile').to.equal(3);
    // A malformed text is refused even right after a good one was returned.
    expect(() => editProfiles(`${after}x\n`, [])).to.throw(/line/);
  });

  it('edits a profile of its own last result in place, and that text is the one a fresh edit gives', () => {
    const start = '# keep\n[a]\nregion = x\n\n[b]\noutput = json\n';
    const first = editProfiles(start, [up('a', 1), up('b', 1)]);
    const before = { ...editCounts };
    const second = editProfiles(first, [up('b', 2)]);
    expect(editCounts.inPlace - before.inPlace, 'edits in place').to.equal(1);
    expect(editCounts.whole - before.whole, 'whole-file edits').to.equal(0);
    editProfiles('[other]\nx = 1\n', []);
    expect(second, 'the in-place edit').to.equal(editProfiles(first, [up('b', 2)]));
    expect(second).to.include(ownLines('b', 2)).and.include(ownLines('a', 1)).and.include('output = json\n');
  });

  it('refuses, in place or not, a profile whose token the JavaScript SDK reads from another place of the file', () => {
    // botocore reads the indented lines as the rest of region's value; the JavaScript SDK opens [p0]
    // again there, and its later aws_session_token wins over the one the agent writes.
    const start = `[p0]\n${ownLines('p0', 1)}[a]\nregion = x\n  [p0]\n  aws_session_token = sneaky\n`;
    const first = editProfiles(start, [up('b', 1)]);
    const before = { ...editCounts };
    const e = catchError(() => editProfiles(first, [up('p0', 2)]));
    expectAgentError(e, 'CREDENTIALS_FILE', 'profile "p0"', "the JavaScript SDK's reading");
    expect(editCounts.inPlace - before.inPlace, 'edits in place').to.equal(0);
  });

  it('refuses a file that repeats a target section, naming both lines', () => {
    const e = catchError(() => editProfiles('[dev]\nregion = x\n\n[dev]\nk = v\n', [up('dev', 1)]));
    expectAgentError(e, 'CREDENTIALS_FILE_DUPLICATE', 'line 4', 'first on line 1', 'section "dev"');
  });

  it('refuses a target section that repeats a key in another case, naming both lines', () => {
    const e = catchError(() => editProfiles('[dev]\naws_access_key_id = A\nAWS_ACCESS_KEY_ID = B\n', [up('dev', 1)]));
    expectAgentError(e, 'CREDENTIALS_FILE_DUPLICATE', 'line 3', 'first on line 2', 'key "aws_access_key_id"');
  });

  it('refuses a repeated foreign section too, since botocore and the AWS CLI refuse the whole file', () => {
    const e = catchError(() => editProfiles('[x]\n[y]\n[x]\n', [up('dev', 1)]));
    expectAgentError(e, 'CREDENTIALS_FILE_DUPLICATE', 'line 3');
  });

  it('refuses a key before the first header', () => {
    const e = catchError(() => editProfiles('region = x\n[dev]\n', [up('dev', 1)]));
    expectAgentError(e, 'CREDENTIALS_FILE', 'line 1', 'before the first');
  });

  it('refuses a malformed line without quoting it, since it may be a pasted secret', () => {
    const e = catchError(() => editProfiles('[dev]\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n', [up('dev', 1)]));
    const err = expectAgentError(e, 'CREDENTIALS_FILE', 'line 2');
    expect(err.message).not.to.include('wJalr');
    expect(err.hint, 'hint').to.be.a('string').and.not.to.equal('');
  });

  it('refuses a carriage return that does not end a line (botocore would split the line there)', () => {
    const e = catchError(() => editProfiles('[dev]\nk = a\rb\n', [up('dev', 1)]));
    expectAgentError(e, 'CREDENTIALS_FILE', 'line 2', 'carriage return');
  });

  it('refuses a line longer than 64 KiB', () => {
    const e = catchError(() => editProfiles(`[dev]\nk = ${'x'.repeat(64 * 1024)}\n`, [up('dev', 1)]));
    expectAgentError(e, 'CREDENTIALS_FILE', 'line 2', '64 KiB');
  });

  it('refuses, rather than writes, an edit that would turn an indented header into a continuation for botocore', () => {
    // After a keyless [dev], botocore reads "  [z]" as a header; once dev has keys it would continue the last value.
    const e = catchError(() => editProfiles('[dev]\n  [z]\nk = v\n', [up('dev', 1)]));
    expectAgentError(e, 'CREDENTIALS_FILE', 'profile "dev"', 'would not read back');
  });

  it('refuses the profile name DEFAULT: botocore would hand its keys to every other profile and never show it', () => {
    const e = expectAgentError(catchError(() => editProfiles('', [{ profile: 'DEFAULT', credentials: creds('x', 1) }])), 'ARGUMENT_INVALID', 'DEFAULT');
    expect(e.hint).to.equal('choose another name, such as "default" (lower case), which is the profile the AWS tools use when none is named');
  });

  it('keeps a [DEFAULT] section whose keys botocore gives every profile, when none of them is a credential', () => {
    const input = '[DEFAULT]\nregion = eu-west-1\n\n[dev]\nregion = x\n';
    expect(editProfiles(input, [up('dev', 1)])).to.equal(input + ownLines('dev', 1));
    expect(editProfiles('[DEFAULT]\nregion = eu-west-1\n', [up('new', 1)]), 'a new profile after it').to.equal('[DEFAULT]\nregion = eu-west-1\n[new]\n' + ownLines('new', 1));
  });

  it('refuses a [DEFAULT] section that sets aws_security_token: botocore would read it in every profile, before aws_session_token', () => {
    const input = '[DEFAULT]\naws_security_token = STALETOKEN\n\n[dev]\nregion = x\n';
    const e = expectAgentError(catchError(() => editProfiles(input, [up('dev', 1)])), 'CREDENTIALS_FILE', 'line 2', '[DEFAULT]', 'aws_security_token');
    expect(e.message).not.to.include('STALETOKEN');
    expect(e.hint).to.equal('remove aws_security_token from [DEFAULT]: botocore and the AWS CLI give every profile the keys of [DEFAULT], and read this one before aws_session_token');
  });

  for (const name of ['', 'a b', '[x]', 'x]', 'a#b', 'a;b', 'profile dev', 'tab\there', 'é', 'x'.repeat(65), '__proto__', 'a=b']) {
    it(`rejects the profile name ${JSON.stringify(name)}`, () => {
      expectAgentError(catchError(() => editProfiles('', [{ profile: name, credentials: creds('x', 1) }])), 'ARGUMENT_INVALID');
    });
  }

  it('rejects an empty access key id', () => {
    const c = { ...creds('dev', 1), accessKeyId: '' };
    expectAgentError(catchError(() => editProfiles('', [{ profile: 'dev', credentials: c }])), 'ARGUMENT_INVALID', 'access key id');
  });

  for (const [what, bad] of [
    ['holding a space', 'abc def'],
    ['holding a newline', 'abc\ndef'],
    ['holding "#"', 'abc#def'],
    ['holding ";"', 'abc;def'],
    ['holding a quote', '"abcdef"'],
    ['non-ASCII', 'abcdéf'],
  ] as const) {
    it(`rejects a session token ${what} without quoting it`, () => {
      const c = { ...creds('dev', 1), sessionToken: `SECRETPART${bad}` };
      const e = expectAgentError(catchError(() => editProfiles('', [{ profile: 'dev', credentials: c }])), 'ARGUMENT_INVALID', 'session token');
      expect(e.message).not.to.include('SECRETPART');
    });
  }

  it('rejects an invalid expiration date', () => {
    const c = { ...creds('dev', 1), expiration: new Date(NaN) };
    expectAgentError(catchError(() => ownValues({ profile: 'dev', credentials: c })), 'ARGUMENT_INVALID', 'expiration');
  });

  it('accepts in a credential value exactly the printable ASCII characters but # ; " \' and \\', () => {
    const accepted: number[] = [];
    const codeUnits = [...Array.from({ length: 0x300 }, (_, c) => c), 0x2028, 0xd800, 0xdfff, 0xfeff, 0xff03, 0xffff];
    for (const c of codeUnits) {
      const credentials = { ...creds('dev', 1), secretAccessKey: `abc${String.fromCharCode(c)}def` };
      try {
        ownValues({ profile: 'dev', credentials });
        accepted.push(c);
      } catch {
        /* refused */
      }
    }
    const expected = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => 0x21 + i).filter((c) => !'#;"\'\\'.includes(String.fromCharCode(c)));
    expect(accepted).to.deep.equal(expected);
  });

  it('writes the expiry as ISO-8601 UTC to the second', () => {
    expect(formatExpiration(new Date(Date.UTC(2026, 10, 22, 1, 0, 0, 999)))).to.equal('2026-11-22T01:00:00Z');
    expect(formatExpiration(new Date(Date.UTC(999, 0, 2, 3, 4, 5, 6)))).to.equal('0999-01-02T03:04:05Z');
    // Outside 0-9999 toISOString has six digits and a sign; the milliseconds still go.
    expect(formatExpiration(new Date(Date.UTC(10000, 0, 1, 0, 0, 0, 1)))).to.equal('+010000-01-01T00:00:00Z');
  });

  it('checks a credentials object again once its values changed, however often it passed before', () => {
    const credentials = { ...creds('dev', 1) };
    const first = ownValues({ profile: 'dev', credentials });
    expect(ownValues({ profile: 'dev', credentials })).to.deep.equal(first);
    // The name is not part of the object: checked every time.
    expectAgentError(catchError(() => ownValues({ profile: 'bad name', credentials })), 'ARGUMENT_INVALID', 'profile');
    credentials.sessionToken = 'a token with spaces';
    expectAgentError(catchError(() => ownValues({ profile: 'dev', credentials })), 'ARGUMENT_INVALID', 'session token');
    credentials.sessionToken = creds('dev', 2).sessionToken;
    expect(ownValues({ profile: 'dev', credentials }).aws_session_token).to.equal(creds('dev', 2).sessionToken);
    credentials.expiration.setTime(NaN);
    expectAgentError(catchError(() => ownValues({ profile: 'dev', credentials })), 'ARGUMENT_INVALID', 'expiration');
  });
});

describe('verifyCandidate', () => {
  const original = '[a]\nk = v\n[dev]\n';
  const good = '[a]\nk = v\n[dev]\n' + ownLines('dev', 1);

  it('accepts a candidate that holds exactly the new values and changes nothing else', () => {
    expect(() => verifyCandidate(original, good, [up('dev', 1)])).not.to.throw();
  });

  it('refuses a candidate whose profiles would inherit a stale aws_security_token from [DEFAULT]', () => {
    const stale = '[DEFAULT]\naws_security_token = OLD\n';
    expectAgentError(catchError(() => verifyCandidate(stale + original, stale + good, [up('dev', 1)])), 'CREDENTIALS_FILE', 'aws_security_token');
  });

  for (const [name, bad] of [
    ['a foreign value changed', good.replace('k = v', 'k = w')],
    ['a foreign section removed', '[dev]\n' + ownLines('dev', 1)],
    ['a target value from another generation', '[a]\nk = v\n[dev]\n' + ownLines('dev', 2)],
    ['a duplicated key', good + 'aws_access_key_id = X\n'],
    ['a key missing', good.replace(/aws_session_token.*\n/, '')],
    ['a stale aws_security_token', good + 'aws_security_token = OLD\n'],
    ['a stale aws_security_token in [DEFAULT], which botocore reads in every profile', '[DEFAULT]\naws_security_token = OLD\n' + good],
    ['a changed [DEFAULT], which botocore reads in every profile', good.replace('[a]\nk = v\n', '[DEFAULT]\nk = v\n[a]\n')],
    ['an inline comment the JavaScript SDK would cut', good.replace(/(aws_access_key_id = \S+)/, '$1 #x')],
  ] as const) {
    it(`refuses a candidate with ${name}`, () => {
      expectAgentError(catchError(() => verifyCandidate(original, bad, [up('dev', 1)])), 'CREDENTIALS_FILE');
    });
  }
});
