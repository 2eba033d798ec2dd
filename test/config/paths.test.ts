import { expect } from 'chai';
import { expandPath } from '../../src/config/paths.js';

describe('expandPath', () => {
  const ctx = { home: '/home/agent', baseDir: '/etc/agent' };
  const rows: [string, string][] = [
    ['~', '/home/agent'],
    ['~/', '/home/agent'],
    ['~/.aws/credentials', '/home/agent/.aws/credentials'],
    ['/etc/pki/host.pem', '/etc/pki/host.pem'],
    ['/etc/pki/../pki/./host.pem', '/etc/pki/host.pem'],
    ['certs/host.pem', '/etc/agent/certs/host.pem'],
    ['./certs/host.pem', '/etc/agent/certs/host.pem'],
    ['../shared/chain.pem', '/etc/shared/chain.pem'],
  ];
  for (const [input, expected] of rows) {
    it(`expands ${JSON.stringify(input)} to ${expected}`, () => {
      expect(expandPath(input, ctx)).to.deep.equal({ path: expected });
    });
  }

  it('leaves a relative path as written when no base directory is known', () => {
    expect(expandPath('certs/host.pem', { home: '/home/agent' })).to.deep.equal({ path: 'certs/host.pem' });
  });

  it('refuses ~user and empty paths with a reason', () => {
    expect(expandPath('~bob/x', ctx)).to.have.property('error').that.matches(/~user paths are not supported/);
    expect(expandPath('', ctx)).to.have.property('error', 'the path is empty');
  });
});
