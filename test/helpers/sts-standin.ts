/**
 * A local STS stand-in for real SDK clients: answers GetCallerIdentity only after checking the
 * request's SigV4 signature (AWS4-HMAC-SHA256) with the secret the caller was issued, and its
 * session token. Credentials are looked up by access key id (tests pass the emulator's `issued`).
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { canonicalRequestFromReceived, stringToSignFromReceived } from '../../src/emulator/canonical.js';

export interface KnownCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  roleArn: string;
}

export interface StsCall {
  accessKeyId: string;
  ok: boolean;
  reason?: string;
}

export interface StsStandIn {
  url: string;
  calls: StsCall[];
  stop(): Promise<void>;
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/sts\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export async function startStsStandIn(lookup: (accessKeyId: string) => KnownCredentials | undefined): Promise<StsStandIn> {
  const calls: StsCall[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const fail = (status: number, code: string, reason: string, accessKeyId = '') => {
        calls.push({ accessKeyId, ok: false, reason });
        res.writeHead(status, { 'content-type': 'text/xml' });
        res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${reason}</Message></Error><RequestId>standin</RequestId></ErrorResponse>`);
      };
      const m = AUTH.exec(String(req.headers.authorization ?? ''));
      if (!m) return fail(403, 'IncompleteSignature', 'no AWS4-HMAC-SHA256 authorization');
      const [, accessKeyId, day, region, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string];
      const known = lookup(accessKeyId);
      if (!known) return fail(403, 'InvalidClientTokenId', 'unknown access key', accessKeyId);
      if (req.headers['x-amz-security-token'] !== known.sessionToken) return fail(403, 'InvalidClientTokenId', 'session token does not match', accessKeyId);
      const amzDate = String(req.headers['x-amz-date'] ?? '');
      const canonical = canonicalRequestFromReceived({ method: req.method ?? 'POST', rawUrl: req.url ?? '/', rawHeaders: req.rawHeaders, body }, signedHeaders.split(';'));
      if (!canonical || !amzDate.startsWith(day)) return fail(400, 'IncompleteSignature', 'bad date or query', accessKeyId);
      const scope = `${day}/${region}/sts/aws4_request`;
      const toSign = stringToSignFromReceived('AWS4-HMAC-SHA256', amzDate, scope, canonical);
      const key = hmac(hmac(hmac(hmac(`AWS4${known.secretAccessKey}`, day), region), 'sts'), 'aws4_request');
      if (hmac(key, toSign).toString('hex') !== signature) return fail(403, 'SignatureDoesNotMatch', 'signature does not match', accessKeyId);
      if (!/(^|&)Action=GetCallerIdentity(&|$)/.test(body.toString())) return fail(400, 'InvalidAction', 'only GetCallerIdentity', accessKeyId);
      calls.push({ accessKeyId, ok: true });
      const account = /^arn:[^:]+:iam::(\d{12}):role\/(.+)$/.exec(known.roleArn);
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
          `<Arn>arn:aws:sts::${account?.[1]}:assumed-role/${account?.[2]}/standin</Arn><UserId>AROASTANDIN:standin</UserId><Account>${account?.[1]}</Account>` +
          `</GetCallerIdentityResult><ResponseMetadata><RequestId>standin</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
