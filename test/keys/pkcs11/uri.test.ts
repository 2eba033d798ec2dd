import { expect } from 'chai';
import { isAgentError } from '../../../src/errors.js';
import { formatPkcs11Uri, isPkcs11Uri, parsePkcs11Uri, redact, tokenMatches, type Pkcs11Uri, type TokenFacts } from '../../../src/keys/pkcs11/uri.js';

describe('pkcs11: URI parsing (RFC 7512)', () => {
  const good: [string, string, Pkcs11Uri][] = [
    ['an empty path selects everything', 'pkcs11:', {}],
    ['the scheme is case-insensitive', 'PKCS11:token=a', { token: 'a' }],
    [
      'token attributes and the object',
      'pkcs11:manufacturer=SoftHSM%20project;model=SoftHSM%20v2;serial=e4081f513cf18602;token=my%20token;object=leaf;type=private',
      { manufacturer: 'SoftHSM project', model: 'SoftHSM v2', serial: 'e4081f513cf18602', token: 'my token', object: 'leaf', type: 'private' },
    ],
    ['id is percent-encoded bytes', 'pkcs11:id=%01%AB%ff', { id: Buffer.from([0x01, 0xab, 0xff]) }],
    ['id may mix literal characters and escapes', 'pkcs11:id=A%00', { id: Buffer.from([0x41, 0x00]) }],
    ['slot-id is a decimal number', 'pkcs11:slot-id=1022461442', { slotId: 1022461442n }],
    ['UTF-8 labels decode', 'pkcs11:object=cl%C3%A9', { object: 'clé' }],
    [
      'query attributes',
      'pkcs11:token=t?pin-source=file:/etc/pki/pin&module-path=/usr/lib/softhsm/libsofthsm2.so&module-name=softhsm2',
      { token: 't', pinSource: 'file:/etc/pki/pin', modulePath: '/usr/lib/softhsm/libsofthsm2.so', moduleName: 'softhsm2' },
    ],
    ['pin-value in the query', 'pkcs11:token=t?pin-value=12%2634', { token: 't', pinValue: '12&34' }],
    ['vendor x- attributes are ignored', 'pkcs11:x-vendor=1;token=t?x-other=2', { token: 't' }],
    ['an empty value is kept (it matches an empty label)', 'pkcs11:object=', { object: '' }],
    ['a trailing semicolon is tolerated', 'pkcs11:token=t;', { token: 't' }],
    ['library attributes', 'pkcs11:library-manufacturer=SoftHSM;library-version=2.6', { libraryManufacturer: 'SoftHSM', libraryVersion: '2.6' }],
  ];
  for (const [name, uri, expected] of good) {
    it(`parses ${name}: ${uri}`, () => {
      expect(parsePkcs11Uri(uri)).to.deep.equal(expected);
    });
  }

  const bad: [string, string, RegExp][] = [
    ['another scheme', 'file:/etc/key.pem', /does not start with pkcs11:/],
    ['an unknown attribute (a typo)', 'pkcs11:lable=x', /unknown attribute "lable"/],
    ['a repeated attribute', 'pkcs11:token=a;token=b', /token appears twice/],
    ['a bad percent-escape', 'pkcs11:id=%zz', /bad percent-escape near "%zz"/],
    ['an unknown type', 'pkcs11:type=key', /type=key is not one of/],
    ['a non-numeric slot-id', 'pkcs11:slot-id=0x1', /slot-id=0x1 is not a decimal number/],
    ['a query attribute in the path', 'pkcs11:pin-source=file:/x', /pin-source belongs in the query/],
    ['a path attribute in the query', 'pkcs11:?token=a', /token belongs in the path/],
    ['a part without "="', 'pkcs11:token', /"token" is not name=value/],
    ['invalid UTF-8', 'pkcs11:object=%ff', /not valid UTF-8/],
  ];
  for (const [name, uri, message] of bad) {
    it(`refuses ${name} with CONFIG_INVALID: ${uri}`, () => {
      let caught: unknown;
      try {
        parsePkcs11Uri(uri);
      } catch (e) {
        caught = e;
      }
      expect(isAgentError(caught), 'an AgentError').to.equal(true);
      expect((caught as Error & { code: string }).code).to.equal('CONFIG_INVALID');
      expect((caught as Error).message).to.match(message);
    });
  }

  it('never quotes a pin-value in its errors', () => {
    for (const uri of ['pkcs11:token=t?pin-value=%zz1234', 'pkcs11:token=t?pin-value=1234&1234', 'pkcs11:token=t?pin-value=1234&bogus=1']) {
      let message = '';
      try {
        parsePkcs11Uri(uri);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, `error for ${uri}`).to.not.equal('');
      expect(message, `error for ${uri}`).to.not.contain('1234');
    }
  });

  it('recognises pkcs11: URIs and nothing else', () => {
    expect([isPkcs11Uri('pkcs11:token=a'), isPkcs11Uri(' PKCS11:'), isPkcs11Uri('/etc/pkcs11:x'), isPkcs11Uri(undefined)]).to.deep.equal([true, true, false, false]);
  });
});

describe('pkcs11: URI redaction', () => {
  const table: [string, string][] = [
    ['pkcs11:token=t;object=k?pin-value=1234', 'pkcs11:token=t;object=k'],
    ['pkcs11:token=t?pin-value=1234&module-path=/m.so', 'pkcs11:token=t?module-path=/m.so'],
    ['pkcs11:token=t?module-path=/m.so&PIN-VALUE=1234', 'pkcs11:token=t?module-path=/m.so'],
    ['pkcs11:token=t;pin-value=1234', 'pkcs11:token=t;pin-value=***'],
    ['pkcs11:token=t?pin-source=file:/p', 'pkcs11:token=t?pin-source=file:/p'],
    ['pkcs11:pin-value=1234', 'pkcs11:pin-value=***'],
    ['pkcs11:token=t?1234&x-vendor=5', 'pkcs11:token=t'],
  ];
  for (const [input, expected] of table) {
    it(`turns ${input} into ${expected}`, () => {
      expect(redact(input)).to.equal(expected);
    });
  }
});

describe('pkcs11: URI formatting', () => {
  it('percent-encodes labels and writes every id byte as an escape, so parsing gives the same attributes back', () => {
    const u: Pkcs11Uri = { token: 'my token;1', serial: 'abc', object: 'clé/x', id: Buffer.from([0, 0x41, 0xff]), type: 'cert', slotId: 7n };
    const text = formatPkcs11Uri(u);
    expect(text).to.equal('pkcs11:slot-id=7;serial=abc;token=my%20token%3b1;object=cl%c3%a9%2fx;id=%00%41%ff;type=cert');
    expect(parsePkcs11Uri(text)).to.deep.equal(u);
  });

  it('never writes a pin-value', () => {
    expect(formatPkcs11Uri({ token: 't', pinValue: '1234', pinSource: 'file:/run/pin' })).to.equal('pkcs11:token=t?pin-source=file:/run/pin');
  });
});

describe('matching a token against a URI', () => {
  const facts: TokenFacts = {
    label: 'tok',
    manufacturer: 'SoftHSM project',
    serial: 'e408',
    model: 'SoftHSM v2',
    slotId: 5n,
    slotDescription: 'SoftHSM slot ID 0x5',
    slotManufacturer: 'SoftHSM project',
    libraryManufacturer: 'SoftHSM',
    libraryDescription: 'Implementation of PKCS11',
    libraryVersion: { major: 2, minor: 6 },
  };
  const table: [string, boolean][] = [
    ['pkcs11:', true],
    ['pkcs11:token=tok', true],
    ['pkcs11:token=other', false],
    ['pkcs11:token=tok;serial=e408;slot-id=5', true],
    ['pkcs11:serial=nope', false],
    ['pkcs11:slot-id=6', false],
    ['pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project', true],
    ['pkcs11:library-version=2.6', true],
    ['pkcs11:library-version=2', false],
    ['pkcs11:library-manufacturer=Other', false],
    ['pkcs11:slot-description=SoftHSM%20slot%20ID%200x5', true],
    ['pkcs11:object=anything;id=%01', true],
  ];
  for (const [uri, expected] of table) {
    it(`${expected ? 'matches' : 'does not match'} ${uri}`, () => {
      expect(tokenMatches(parsePkcs11Uri(uri), facts)).to.equal(expected);
    });
  }
});
