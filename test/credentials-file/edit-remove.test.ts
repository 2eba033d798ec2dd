/**
 * Removing the agent's keys from a profile (a profile whose identity changed, or that left the
 * schedule): only our three keys and our expiry key go (and a stale aws_security_token); every other
 * byte stays. A section goes only when nothing but our keys was in it.
 */
import { expect } from 'chai';
import { editProfiles, type ProfileChange } from '../../src/credentials-file/edit.js';
import { catchError, creds, expectAgentError, ownLines } from './helpers.js';

const gone = (profile: string): ProfileChange => ({ profile, remove: true });

interface Case {
  name: string;
  input: string;
  changes: ProfileChange[];
  expected: string;
}

const cases: Case[] = [
  {
    name: 'drops a section that holds nothing but the keys the agent wrote, and leaves the others byte for byte',
    input: '# mine\n[a]\nregion = x\n\n[dev]\n' + ownLines('dev', 1) + '\n[z]\nk = v\n',
    changes: [gone('dev')],
    expected: '# mine\n[a]\nregion = x\n\n\n[z]\nk = v\n',
  },
  {
    name: 'keeps the header, the comments and the other keys of a section the operator wrote',
    input: '[dev]\n# my profile\nregion = eu-west-1\n' + ownLines('dev', 1) + 'output = json\n',
    changes: [gone('dev')],
    expected: '[dev]\n# my profile\nregion = eu-west-1\noutput = json\n',
  },
  {
    name: 'keeps a section without the expiry key of the agent (then the agent cannot know it made it)',
    input: '[dev]\naws_access_key_id = A\naws_secret_access_key = B\naws_session_token = C\n',
    changes: [gone('dev')],
    expected: '[dev]\n',
  },
  {
    name: 'removes continuation lines and a stale aws_security_token with the keys, and keeps CRLF',
    input: '[dev]\r\naws_session_token = OLD\r\n  more-of-old\r\naws_security_token = STALE\r\nregion = x\r\n[z]\r\nk = v\r\n',
    changes: [gone('dev')],
    expected: '[dev]\r\nregion = x\r\n[z]\r\nk = v\r\n',
  },
  {
    name: 'leaves a file that does not hold the profile as it was',
    input: '[a]\nk = v',
    changes: [gone('dev')],
    expected: '[a]\nk = v',
  },
  {
    name: 'removes one profile and writes another in the same edit',
    input: '[old]\n' + ownLines('old', 1) + '[dev]\nregion = x\n',
    changes: [gone('old'), { profile: 'dev', credentials: creds('dev', 2) }],
    expected: '[dev]\nregion = x\n' + ownLines('dev', 2),
  },
  {
    name: 'lets a later write of the same profile win over a removal',
    input: '[dev]\n' + ownLines('dev', 1),
    changes: [gone('dev'), { profile: 'dev', credentials: creds('dev', 3) }],
    expected: '[dev]\n' + ownLines('dev', 3),
  },
  {
    name: 'lets a later removal win over a write',
    input: '[a]\nk = v\n[dev]\n' + ownLines('dev', 1),
    changes: [{ profile: 'dev', credentials: creds('dev', 3) }, gone('dev')],
    expected: '[a]\nk = v\n',
  },
];

describe('editProfiles: removing the agent keys of a profile', () => {
  for (const c of cases) {
    it(c.name, () => {
      const got = editProfiles(c.input, c.changes);
      expect(JSON.stringify(got), 'edited text').to.equal(JSON.stringify(c.expected));
    });
  }

  it('refuses an invalid profile name for a removal too', () => {
    const e = catchError(() => editProfiles('', [gone('a b')]));
    expectAgentError(e, 'ARGUMENT_INVALID', 'cannot be written');
  });
});
