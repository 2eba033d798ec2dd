import { expect } from 'chai';
import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import {
  amzDate,
  canonicalHeaders,
  canonicalQueryString,
  canonicalRequest,
  parseAuthorization,
  sha256Hex,
  stringToSign,
} from '../../src/rolesanywhere/sigv4.js';
import { buildSignedRequest } from '../../src/rolesanywhere/request.js';
import { memorySigner } from '../helpers/signer.js';
import { KAT_EC_CERT, KAT_EC_KEY, KAT_RSA_CERT, KAT_RSA_KEY } from './fixtures/kat-material.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('SigV4 canonical pieces (the official aws-sig-v4-test-suite vectors)', () => {
  it('get-vanilla: the canonical request hashes to the published value', () => {
    const c = canonicalRequest({
      method: 'GET',
      path: '/',
      query: [],
      headers: { Host: 'example.amazonaws.com', 'X-Amz-Date': '20150830T123600Z' },
      body: '',
    });
    expect(c.text).to.equal(`GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${EMPTY_SHA256}`);
    expect(sha256Hex(c.text)).to.equal('bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63');
  });

  it('get-vanilla-query-order-key: query parameters are sorted by key', () => {
    expect(canonicalQueryString([['Param2', 'value2'], ['Param1', 'value1']])).to.equal('Param1=value1&Param2=value2');
  });

  it('get-header-value-trim: names are lower-cased, values trimmed and inner runs of spaces folded', () => {
    const h = canonicalHeaders({ 'My-Header1': ' value1 ', 'My-Header2': '"a   b   c"', Host: 'example.amazonaws.com' });
    expect(h.block).to.equal('host:example.amazonaws.com\nmy-header1:value1\nmy-header2:"a b c"\n');
    expect(h.signed).to.equal('host;my-header1;my-header2');
  });

  it('query values are percent-encoded as RFC 3986 wants, spaces as %20 and unreserved characters kept', () => {
    expect(canonicalQueryString([['k', "a b/c:d~e_f.g-h!*'()"]])).to.equal('k=a%20b%2Fc%3Ad~e_f.g-h%21%2A%27%28%29');
  });

  it('the date is formatted as YYYYMMDDTHHMMSSZ', () => {
    expect(amzDate(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).to.equal('20260102T030405Z');
  });

  it('the string to sign carries the X.509 algorithm, the date, the rolesanywhere scope and the request hash', () => {
    const s = stringToSign('AWS4-X509-ECDSA-SHA256', Date.UTC(2015, 7, 30, 12, 36), 'us-east-1', 'x');
    expect(s).to.equal(`AWS4-X509-ECDSA-SHA256\n20150830T123600Z\n20150830/us-east-1/rolesanywhere/aws4_request\n${sha256Hex('x')}`);
  });

  it('an Authorization header parses back into its parts', () => {
    const p = parseAuthorization('AWS4-X509-RSA-SHA256 Credential=42/20261122/eu-west-1/rolesanywhere/aws4_request, SignedHeaders=content-type;host, Signature=abcd');
    expect(p).to.deep.equal({
      algorithm: 'AWS4-X509-RSA-SHA256',
      serial: '42',
      date: '20261122',
      region: 'eu-west-1',
      service: 'rolesanywhere',
      terminator: 'aws4_request',
      signedHeaders: ['content-type', 'host'],
      signature: 'abcd',
    });
    expect(parseAuthorization('AWS4-HMAC-SHA256 Credential=x')).to.equal(undefined);
  });
});

describe('a signed CreateSession request (known answer)', () => {
  const TA = 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/2b7f1a3c-4d5e-4f60-8a9b-0c1d2e3f4a5b';
  const PR = 'arn:aws:rolesanywhere:eu-west-1:111122223333:profile/6c7d8e9f-0a1b-4c2d-9e3f-4a5b6c7d8e9f';
  const ROLE = 'arn:aws:iam::111122223333:role/app';
  const DATE = Date.UTC(2026, 10, 22, 1, 2, 3);
  const session = { trustAnchorArn: TA, profileArn: PR, roleArn: ROLE, durationSeconds: 3600 };
  const certB64 = new X509Certificate(KAT_RSA_CERT).raw.toString('base64');

  it('pins the canonical request byte for byte', async () => {
    const r = await buildSignedRequest('https://rolesanywhere.eu-west-1.amazonaws.com', 'eu-west-1', session, memorySigner(KAT_RSA_CERT, KAT_RSA_KEY), DATE);
    const expected = [
      'POST',
      '/sessions',
      'profileArn=arn%3Aaws%3Arolesanywhere%3Aeu-west-1%3A111122223333%3Aprofile%2F6c7d8e9f-0a1b-4c2d-9e3f-4a5b6c7d8e9f' +
        '&roleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fapp' +
        '&trustAnchorArn=arn%3Aaws%3Arolesanywhere%3Aeu-west-1%3A111122223333%3Atrust-anchor%2F2b7f1a3c-4d5e-4f60-8a9b-0c1d2e3f4a5b',
      'content-type:application/json',
      'host:rolesanywhere.eu-west-1.amazonaws.com',
      'x-amz-date:20261122T010203Z',
      `x-amz-x509:${certB64}`,
      '',
      'content-type;host;x-amz-date;x-amz-x509',
      sha256Hex('{"durationSeconds":3600}'),
    ].join('\n');
    expect(r.canonicalRequest).to.equal(expected);
    expect(r.body).to.equal('{"durationSeconds":3600}');
    expect(r.url).to.equal(`https://rolesanywhere.eu-west-1.amazonaws.com/sessions?${expected.split('\n')[2]}`);
  });

  it('pins the string to sign and the deterministic RSA signature', async () => {
    const r = await buildSignedRequest('https://rolesanywhere.eu-west-1.amazonaws.com', 'eu-west-1', session, memorySigner(KAT_RSA_CERT, KAT_RSA_KEY), DATE);
    expect(r.stringToSign).to.equal(
      'AWS4-X509-RSA-SHA256\n20261122T010203Z\n20261122/eu-west-1/rolesanywhere/aws4_request\na7aafa385607375273f67d0e6a658190cd0d068e74b30538608ac2f96925f710',
    );
    expect(r.headers['authorization']).to.equal(
      'AWS4-X509-RSA-SHA256 Credential=1234567890123456789/20261122/eu-west-1/rolesanywhere/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date;x-amz-x509, Signature=8e15e66d0d7b4d7c03ef652fd561eec4e745fb6b24e8b9893a64248185b71237677a9f2c3f6d58d6ff73409563057e04048a38069188a7a31eb074d27f2b5226062bfd192cb2a798b9fba385df28d400a3b230e630997bdbf287d12b34828ef62efc0c803127b9ca2a07233b7db97249cc82f73084ad2bb75461f570e35ce8762666f1345399201439a031f8a8bdfe3ac1da066486038d6c0ee76266c9febe6fd8971469c075326381bbb7f6eda0ca865f7b509318cd10145a664964f68907988d7a0ecc5bbdee07a9df95126622d0df3e0e6a9ba2a212c99b33f29dd7474b4038da859350ce69d71ebf9d8ebdcc16a2e90171d2029d7a663fd0b1fc15214ddb',
    );
  });

  it('signs with ECDSA in DER for an EC key, verifiable with the certificate public key', async () => {
    const r = await buildSignedRequest('https://rolesanywhere.eu-west-1.amazonaws.com', 'eu-west-1', session, memorySigner(KAT_EC_CERT, KAT_EC_KEY), DATE);
    const auth = parseAuthorization(r.headers['authorization']!)!;
    expect(auth.algorithm).to.equal('AWS4-X509-ECDSA-SHA256');
    expect(auth.serial).to.equal('987654321');
    const sig = Buffer.from(auth.signature, 'hex');
    expect(sig[0], 'DER SEQUENCE tag').to.equal(0x30);
    const pub = createPublicKey(KAT_EC_CERT);
    expect(verify('sha256', Buffer.from(r.stringToSign), { key: pub, dsaEncoding: 'der' }, sig)).to.equal(true);
  });

  it('signs the intermediates header and the role session name when given', async () => {
    const signer = memorySigner(KAT_RSA_CERT, KAT_RSA_KEY, [KAT_EC_CERT, KAT_RSA_CERT]);
    const r = await buildSignedRequest('http://127.0.0.1:8080/base/', 'eu-west-1', { ...session, roleSessionName: 'nightly' }, signer, DATE);
    const chain = r.headers['x-amz-x509-chain']!.split(',');
    expect(chain).to.have.length(2);
    expect(r.canonicalRequest).to.include('\nhost:127.0.0.1:8080\n');
    expect(r.canonicalRequest.split('\n')[1]).to.equal('/base/sessions');
    expect(r.canonicalRequest).to.include('content-type;host;x-amz-date;x-amz-x509;x-amz-x509-chain');
    expect(r.body).to.equal('{"durationSeconds":3600,"roleSessionName":"nightly"}');
  });
});
