import { expect } from 'chai';
import fc from 'fast-check';
import { canonicalQuery, canonicalRequestFromReceived, parseRawQuery, sha256Hex, stringToSignFromReceived } from '../../src/emulator/canonical.js';
import { canonicalRequest, stringToSign, uriEncode } from '../../src/rolesanywhere/sigv4.js';

describe("emulator canonicalisation (independent of the client's sigv4.ts)", () => {
  it("matches AWS's published SigV4 example (IAM ListUsers, 2015-08-30) byte for byte", () => {
    const canonical = canonicalRequestFromReceived(
      {
        method: 'GET',
        rawUrl: '/?Action=ListUsers&Version=2010-05-08',
        rawHeaders: ['Host', 'iam.amazonaws.com', 'Content-Type', 'application/x-www-form-urlencoded; charset=utf-8', 'X-Amz-Date', '20150830T123600Z'],
        body: Buffer.alloc(0),
      },
      ['content-type', 'host', 'x-amz-date'],
    );
    expect(canonical).to.equal(
      [
        'GET',
        '/',
        'Action=ListUsers&Version=2010-05-08',
        'content-type:application/x-www-form-urlencoded; charset=utf-8',
        'host:iam.amazonaws.com',
        'x-amz-date:20150830T123600Z',
        '',
        'content-type;host;x-amz-date',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ].join('\n'),
    );
    expect(sha256Hex(canonical!)).to.equal('f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59');
    expect(stringToSignFromReceived('AWS4-HMAC-SHA256', '20150830T123600Z', '20150830/us-east-1/iam/aws4_request', canonical!)).to.equal(
      'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59',
    );
  });

  it('sorts query parameters by name then value, keeps empty values, and re-encodes to upper-case escapes', () => {
    const pairs = parseRawQuery('b=2&a=%3a%2f&a=1&c=&Param2=x&Param1=y');
    expect(canonicalQuery(pairs!)).to.equal('Param1=y&Param2=x&a=%3A%2F&a=1&b=2&c=');
  });

  it('treats + in a raw query as a literal plus, and refuses a broken escape', () => {
    expect(parseRawQuery('a=b+c')).to.deep.equal([['a', 'b+c']]);
    expect(parseRawQuery('a=%zz')).to.equal(undefined);
  });

  it('folds runs of spaces in header values and joins repeated headers with commas (SigV4 trimall)', () => {
    const canonical = canonicalRequestFromReceived(
      { method: 'POST', rawUrl: '/x', rawHeaders: ['My-Header1', '  a   b   c  ', 'my-header1', 'd'], body: Buffer.from('') },
      ['my-header1'],
    );
    expect(canonical!.split('\n')[3]).to.equal('my-header1:a b c,d');
  });

  it('agrees with the client signing code for any ARN-like query, header values and body (property)', () => {
    const text = fc.string({ unit: fc.constantFrom(...'abcXYZ09:/-_.~ +=%!*()\'@é'.split('')), maxLength: 30 });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('profileArn', 'roleArn', 'trustAnchorArn', 'x'), text), { maxLength: 4 }), text, fc.string({ maxLength: 50 }), (query, headerValue, body) => {
        const headers = { host: '127.0.0.1:4443', 'content-type': 'application/json', 'x-amz-date': '20261122T000000Z', 'x-test': headerValue };
        const client = canonicalRequest({ method: 'POST', path: '/sessions', query, headers, body });
        const rawUrl = '/sessions' + (query.length ? '?' + query.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&') : '');
        const rawHeaders = Object.entries(headers).flat();
        const server = canonicalRequestFromReceived({ method: 'POST', rawUrl, rawHeaders, body: Buffer.from(body, 'utf8') }, client.signedHeaders.split(';'));
        expect(server).to.equal(client.text);
        const scope = '20261122/eu-west-1/rolesanywhere/aws4_request';
        expect(stringToSignFromReceived('AWS4-X509-RSA-SHA256', '20261122T000000Z', scope, server!)).to.equal(
          stringToSign('AWS4-X509-RSA-SHA256', Date.UTC(2026, 10, 22), 'eu-west-1', client.text),
        );
      }),
      { numRuns: 300 },
    );
  });
});
