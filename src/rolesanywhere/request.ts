/**
 * Builds one signed CreateSession request: the ARNs go in the query string as the official helper
 * sends them, duration and session name in the JSON body, and the X.509 SigV4 Authorization over
 * content-type, host, x-amz-date, x-amz-x509 and (when present) x-amz-x509-chain. Apart from the
 * signature itself, this is a pure function of its input, including the date.
 */
import type { Signer } from '../keys/signer.js';
import { serialDecimal } from '../keys/signer.js';
import { amzDate, authorizationHeader, canonicalRequest, canonicalQueryString, stringToSign } from './sigv4.js';

export interface SessionRequest {
  trustAnchorArn: string;
  profileArn: string;
  roleArn: string;
  durationSeconds: number;
  roleSessionName?: string;
}

export interface SignedRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** For --debug: no secret is in either. */
  canonicalRequest: string;
  stringToSign: string;
}

export async function buildSignedRequest(
  endpointUrl: string,
  signingRegion: string,
  req: SessionRequest,
  signer: Signer,
  dateMs: number,
): Promise<SignedRequest> {
  const base = new URL(endpointUrl);
  const path = `${base.pathname.replace(/\/+$/, '')}/sessions`;
  const query: [string, string][] = [
    ['profileArn', req.profileArn],
    ['roleArn', req.roleArn],
    ['trustAnchorArn', req.trustAnchorArn],
  ];
  const qs = canonicalQueryString(query);
  const bodyObj: Record<string, unknown> = { durationSeconds: req.durationSeconds };
  if (req.roleSessionName !== undefined) bodyObj['roleSessionName'] = req.roleSessionName;
  const body = JSON.stringify(bodyObj);
  const signed: Record<string, string> = {
    'content-type': 'application/json',
    host: base.host,
    'x-amz-date': amzDate(dateMs),
    'x-amz-x509': signer.certificate.raw.toString('base64'),
  };
  if (signer.chain.length) signed['x-amz-x509-chain'] = signer.chain.map((c) => c.raw.toString('base64')).join(',');
  const canonical = canonicalRequest({ method: 'POST', path, query, headers: signed, body });
  const sts = stringToSign(signer.algorithm, dateMs, signingRegion, canonical.text);
  const signature = await signer.sign(Buffer.from(sts, 'utf8'));
  const authorization = authorizationHeader(
    signer.algorithm,
    serialDecimal(signer.certificate),
    dateMs,
    signingRegion,
    canonical.signedHeaders,
    signature,
  );
  return {
    url: `${base.origin}${path}?${qs}`,
    headers: { ...signed, authorization },
    body,
    canonicalRequest: canonical.text,
    stringToSign: sts,
  };
}
