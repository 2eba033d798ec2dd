/**
 * A local STS stand-in for real SDK clients (the JS SDK, boto3, the AWS CLI): answers
 * `GetCallerIdentity` (query protocol) only after checking the request's SigV4 signature
 * (AWS4-HMAC-SHA256, host and x-amz-date signed) with the secret the emulator issued for its access
 * key, that the session token is the one issued with that key, and that the credentials have not
 * expired. So a call succeeds only with credentials really handed out, and still fresh. The
 * canonical request comes from the emulator's server-side code (src/emulator/canonical.ts).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { canonicalRequestFromReceived, headerValues, stringToSignFromReceived } from '../../src/emulator/canonical.js';
import type { IssuedCredentials } from '../../src/emulator/credentials.js';

export interface StsCall {
  accessKeyId: string;
  ok: boolean;
  /** The refusal's code (SignatureDoesNotMatch, ExpiredToken, …) when not ok. */
  code?: string;
}

export interface StsStandIn {
  url: string;
  calls: StsCall[];
  stop(): Promise<void>;
}

/** What the stand-in needs of issued credentials (the emulator's `issued` entries fit). */
export type KnownCredentials = Pick<IssuedCredentials, 'accessKeyId' | 'secretAccessKey' | 'sessionToken' | 'expiration' | 'roleArn' | 'roleSessionName'>;

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/sts\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/**
 * `issued` is read at each call (pass `() => emulator.issued`); the newest entry of an access key
 * wins. The account in the answer is the role ARN's.
 */
export async function startStsStandIn(issued: () => readonly KnownCredentials[]): Promise<StsStandIn> {
  const calls: StsCall[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const refuse = (status: number, code: string, accessKeyId = '') => {
        calls.push({ accessKeyId, ok: false, code });
        res.writeHead(status, { 'Content-Type': 'text/xml' });
        res.end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${code}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
      };
      const auth = AUTH.exec(req.headers.authorization ?? '');
      if (!auth) return refuse(403, 'IncompleteSignature');
      const [, keyId, date, region, signedList, signature] = auth as unknown as [string, string, string, string, string, string];
      const creds = [...issued()].reverse().find((c) => c.accessKeyId === keyId);
      if (!creds) return refuse(403, 'InvalidClientTokenId', keyId);
      const signed = signedList.split(';');
      if (!signed.includes('host') || !signed.includes('x-amz-date')) return refuse(403, 'IncompleteSignature', keyId);
      if (headerValues(req.rawHeaders, 'x-amz-security-token')[0] !== creds.sessionToken) return refuse(403, 'InvalidClientTokenId', keyId);
      if (Date.parse(creds.expiration) <= Date.now()) return refuse(403, 'ExpiredToken', keyId);
      const amzDate = headerValues(req.rawHeaders, 'x-amz-date')[0] ?? '';
      if (!amzDate.startsWith(date)) return refuse(403, 'SignatureDoesNotMatch', keyId);
      const canonical = canonicalRequestFromReceived({ method: req.method ?? '', rawUrl: req.url ?? '/', rawHeaders: req.rawHeaders, body }, signed);
      if (!canonical) return refuse(400, 'MalformedQueryString', keyId);
      const toSign = stringToSignFromReceived('AWS4-HMAC-SHA256', amzDate, `${date}/${region}/sts/aws4_request`, canonical);
      const kSigning = hmac(hmac(hmac(hmac('AWS4' + creds.secretAccessKey, date), region), 'sts'), 'aws4_request');
      if (hmac(kSigning, toSign).toString('hex') !== signature) return refuse(403, 'SignatureDoesNotMatch', keyId);
      if (!/(^|&)Action=GetCallerIdentity(&|$)/.test(body.toString())) return refuse(400, 'InvalidAction', keyId);
      calls.push({ accessKeyId: keyId, ok: true });
      const [, account, role] = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(creds.roleArn) ?? [];
      res.writeHead(200, { 'Content-Type': 'text/xml' });
      res.end(
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
          `<Arn>arn:aws:sts::${account}:assumed-role/${role}/${creds.roleSessionName}</Arn><UserId>AROAEXAMPLE:${creds.roleSessionName}</UserId><Account>${account}</Account>` +
          `</GetCallerIdentityResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
