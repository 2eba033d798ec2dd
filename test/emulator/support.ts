/**
 * Test support for the emulator: a CreateSession request signed by hand with
 * src/rolesanywhere/sigv4.ts and node:crypto (with knobs to break each rule), a sender over
 * node:http/https that returns status, headers and parsed body, and the fixed ARNs the tests use.
 */
import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SigningAlgorithm } from '../../src/keys/signer.js';
import { amzDate, authorizationHeader, canonicalRequest, stringToSign, uriEncode } from '../../src/rolesanywhere/sigv4.js';
import type { EmulatorConfig } from '../../src/emulator/index.js';
import type { Issued } from '../helpers/pki.js';

export const REGION = 'eu-west-1';
export const ACCOUNT = '111122223333';
export const TA = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/0b5c1a8e-7f3d-4b2a-9c61-1d2e3f4a5b6c`;
export const TA2 = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d`;
export const PROFILE = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d`;
export const PROFILE2 = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/6b5c4d3e-2f10-4b0c-9d8e-7f6a5b4c3d2e`;
export const ROLE = `arn:aws:iam::${ACCOUNT}:role/app/demo-role`;
export const ROLE2 = `arn:aws:iam::${ACCOUNT}:role/other-role`;

export interface Credentialled {
  /** The leaf whose certificate goes in X-Amz-X509. */
  leaf: { nodeCert: { raw: Buffer; serialNumber: string }; privateKey: KeyObject };
  /** Intermediates for X-Amz-X509-Chain. */
  chain?: Array<Pick<Issued, 'nodeCert'>>;
}

export interface SignOptions extends Credentialled {
  /** host:port as the client will send it. */
  host: string;
  dateMs: number;
  region?: string;
  method?: string;
  path?: string;
  /** Query pairs; default the three ARNs (as the official helper sends them). */
  query?: Array<[string, string]>;
  /** JSON body object or raw text; default {durationSeconds: 3600}. */
  body?: unknown;
  algorithm?: string;
  /** Credential serial (decimal) override. */
  serial?: string;
  /** Which headers to sign; default all the ones the request carries. */
  signed?: string[];
  contentType?: string;
  extraHeaders?: Record<string, string>;
  /** Break the request after it was signed. */
  tamper?: (r: SignedRequest) => void;
  /** Override the signature bytes' producer. */
  signer?: (data: Buffer) => Buffer;
}

export interface SignedRequest {
  method: string;
  /** Path and raw query, as sent. */
  url: string;
  headers: Record<string, string>;
  body: string;
}

export function arnQuery(ta = TA, profile = PROFILE, role = ROLE): Array<[string, string]> {
  return [
    ['profileArn', profile],
    ['roleArn', role],
    ['trustAnchorArn', ta],
  ];
}

export function serialOf(c: { nodeCert: { serialNumber: string } }): string {
  return BigInt('0x' + c.nodeCert.serialNumber).toString(10);
}

export function signRequest(o: SignOptions): SignedRequest {
  const method = o.method ?? 'POST';
  const path = o.path ?? '/sessions';
  const query = o.query ?? arnQuery();
  const body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body ?? { durationSeconds: 3600 });
  const keyType = o.leaf.privateKey.asymmetricKeyType;
  const algorithm = (o.algorithm ?? (keyType === 'ec' ? 'AWS4-X509-ECDSA-SHA256' : 'AWS4-X509-RSA-SHA256')) as SigningAlgorithm;
  const region = o.region ?? REGION;
  const headers: Record<string, string> = {
    Host: o.host,
    'Content-Type': o.contentType ?? 'application/json',
    'X-Amz-Date': amzDate(o.dateMs),
    'X-Amz-X509': o.leaf.nodeCert.raw.toString('base64'),
    ...(o.chain?.length ? { 'X-Amz-X509-Chain': o.chain.map((c) => c.nodeCert.raw.toString('base64')).join(',') } : {}),
    ...o.extraHeaders,
  };
  const signedNames = o.signed ?? Object.keys(headers).map((h) => h.toLowerCase());
  const signedHeaders: Record<string, string> = {};
  for (const name of signedNames) {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    signedHeaders[name] = key === undefined ? '' : headers[key]!;
  }
  const { text, signedHeaders: list } = canonicalRequest({ method, path, query, headers: signedHeaders, body });
  const toSign = Buffer.from(stringToSign(algorithm, o.dateMs, region, text), 'utf8');
  const signature = o.signer ? o.signer(toSign) : cryptoSign('sha256', toSign, o.leaf.privateKey);
  headers.Authorization = authorizationHeader(algorithm, o.serial ?? serialOf(o.leaf), o.dateMs, region, list, signature);
  const qs = query.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');
  const r: SignedRequest = { method, url: qs ? `${path}?${qs}` : path, headers, body };
  o.tamper?.(r);
  return r;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** Sends one request on a fresh connection; rejects on a network error (e.g. a dropped socket). */
export function send(baseUrl: string, r: SignedRequest, ca?: string): Promise<Reply> {
  const u = new URL(baseUrl);
  const options = {
    hostname: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port),
    method: r.method,
    path: r.url,
    headers: r.headers,
    agent: false as const,
    ...(ca ? { ca } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

export function hostOf(baseUrl: string): string {
  return new URL(baseUrl).host;
}

export function baseConfig(anchors: Record<string, string[]>): EmulatorConfig {
  return {
    trustAnchors: Object.entries(anchors).map(([arn, certificates]) => ({ arn, certificates })),
    roles: [
      { arn: ROLE, trustAnchorArns: Object.keys(anchors) },
      { arn: ROLE2, trustAnchorArns: [TA2].filter((a) => a in anchors) },
    ],
    profiles: [
      { arn: PROFILE, roleArns: [ROLE] },
      { arn: PROFILE2, roleArns: [ROLE, ROLE2], acceptRoleSessionName: true, durationSeconds: 7200 },
    ],
  };
}
