import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAgentError } from '../../../src/errors.js';
import { choosePinSource, pinSourcePath } from '../../../src/keys/pkcs11/pin.js';
import { parsePkcs11Uri } from '../../../src/keys/pkcs11/uri.js';
import { makeTempDir } from '../../helpers/tmp.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isAgentError(e) ? e.code : `non-AgentError: ${(e as Error).message}`;
  }
  return 'no error';
}

describe('choosing the token PIN source', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  beforeEach(() => (tmp = makeTempDir()));
  afterEach(() => tmp.cleanup());

  function pinFile(content: string, mode = 0o600): string {
    const p = join(tmp.dir, 'pin');
    writeFileSync(p, content, { mode });
    return p;
  }

  it('prefers the configuration over the URI, and warns that the URI PIN is ignored', () => {
    const logs: string[] = [];
    const src = choosePinSource({ pin: { env: 'P' }, uri: parsePkcs11Uri('pkcs11:?pin-value=9999'), env: { P: '1111' }, logger: (_l, m) => logs.push(m) });
    expect(src.read()).to.equal('1111');
    expect(src.description).to.equal('environment variable P');
    expect(logs).to.have.length(1);
    expect(logs[0]).to.contain('ignoring the URI').and.not.to.contain('9999');
  });

  it('reads a PIN file at each read, trimming one trailing newline only', () => {
    const p = pinFile('12 34\r\n');
    const src = choosePinSource({ pin: { file: p }, uri: {}, env: {} });
    expect(src.read()).to.equal('12 34');
    writeFileSync(p, 'new\n\n');
    expect(src.read()).to.equal('new\n');
  });

  it('warns once when the PIN file is readable by others', () => {
    const logs: string[] = [];
    const p = pinFile('1234', 0o644);
    const src = choosePinSource({ pin: undefined, uri: parsePkcs11Uri(`pkcs11:?pin-source=file:${p}`), env: {}, logger: (_l, m) => logs.push(m) });
    src.read();
    src.read();
    expect(logs).to.deep.equal([`PIN file ${p} (pin-source in the URI) is readable by other users; chmod 600 it`]);
  });

  it('fails with PKCS11_PIN for an empty or missing PIN file, an unset variable', () => {
    expect(codeOf(() => choosePinSource({ pin: { file: pinFile('\n') }, uri: {}, env: {} }).read())).to.equal('PKCS11_PIN');
    expect(codeOf(() => choosePinSource({ pin: { file: join(tmp.dir, 'absent') }, uri: {}, env: {} }).read())).to.equal('PKCS11_PIN');
    expect(codeOf(() => choosePinSource({ pin: { env: 'UNSET' }, uri: {}, env: {} }).read())).to.equal('PKCS11_PIN');
  });

  it('warns for an inline PIN, in the URI or the configuration, without showing it', () => {
    const logs: string[] = [];
    const logger = (_l: string, m: string) => logs.push(m);
    expect(choosePinSource({ uri: parsePkcs11Uri('pkcs11:?pin-value=5678'), env: {}, logger }).read()).to.equal('5678');
    expect(choosePinSource({ pin: { value: '8765' }, uri: {}, env: {}, logger }).read()).to.equal('8765');
    expect(logs).to.have.length(2);
    expect(logs.join(' ')).to.not.match(/5678|8765/);
  });

  it('reports no source when nothing is configured', () => {
    const src = choosePinSource({ uri: {}, env: {} });
    expect([src.none, src.read()]).to.deep.equal([true, undefined]);
  });

  const paths: [string, string | null][] = [
    ['file:/etc/pin', '/etc/pin'],
    ['file:///etc/pin', '/etc/pin'],
    ['file://localhost/etc/pin', '/etc/pin'],
    ['/etc/pin', '/etc/pin'],
    ['|/usr/bin/get-pin', null],
    ['https://example.test/pin', null],
  ];
  for (const [source, expected] of paths) {
    it(`${expected ? `reads pin-source=${source} as ${expected}` : `refuses pin-source=${source}`}`, () => {
      if (expected) expect(pinSourcePath(source)).to.equal(expected);
      else expect(codeOf(() => pinSourcePath(source))).to.equal('CONFIG_INVALID');
    });
  }
});
