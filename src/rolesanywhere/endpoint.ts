/**
 * Where CreateSession goes: an explicit endpoint (flag, schedule, or AWS_ENDPOINT_URL_ROLESANYWHERE /
 * AWS_ENDPOINT_URL), else `rolesanywhere[-fips].<region>.<partition suffix>`. The signing region is
 * always the plain region, also for FIPS endpoints.
 */
import { AgentError } from '../errors.js';

const SUFFIX: Record<string, string> = {
  aws: 'amazonaws.com',
  'aws-us-gov': 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
  'aws-iso': 'c2s.ic.gov',
  'aws-iso-b': 'sc2s.sgov.gov',
  'aws-iso-e': 'cloud.adc-e.uk',
  'aws-iso-f': 'csp.hci.ic.gov',
};

export interface EndpointOptions {
  region: string;
  partition: string;
  fips?: boolean;
  /** An explicit endpoint URL; wins over everything. */
  endpoint?: string;
  env?: NodeJS.ProcessEnv;
}

export interface ResolvedEndpoint {
  /** Base URL without a trailing slash. */
  url: string;
  signingRegion: string;
  /** What chose it, for --debug and messages. */
  source: 'option' | 'AWS_ENDPOINT_URL_ROLESANYWHERE' | 'AWS_ENDPOINT_URL' | 'partition';
}

function checkUrl(text: string, what: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new AgentError('ARGUMENT_INVALID', `${what} "${text}" is not a URL`, {
      hint: 'give a full URL such as https://rolesanywhere.eu-west-1.amazonaws.com',
    });
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new AgentError('ARGUMENT_INVALID', `${what} "${text}" must use https:// (or http:// for a local emulator)`);
  }
  if (u.search || u.hash) throw new AgentError('ARGUMENT_INVALID', `${what} "${text}" must not have a query or fragment`);
  return u.toString().replace(/\/+$/, '');
}

export function resolveEndpoint(o: EndpointOptions): ResolvedEndpoint {
  const env = o.env ?? {};
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(o.region)) {
    throw new AgentError('ARGUMENT_INVALID', `region "${o.region}" is not an AWS region name`, {
      hint: 'use a region such as eu-west-1, or leave it out to take the trust anchor ARN\'s region',
    });
  }
  if (o.endpoint) return { url: checkUrl(o.endpoint, 'endpoint'), signingRegion: o.region, source: 'option' };
  const specific = env['AWS_ENDPOINT_URL_ROLESANYWHERE'];
  if (specific) {
    return { url: checkUrl(specific, 'AWS_ENDPOINT_URL_ROLESANYWHERE'), signingRegion: o.region, source: 'AWS_ENDPOINT_URL_ROLESANYWHERE' };
  }
  const global = env['AWS_ENDPOINT_URL'];
  if (global) return { url: checkUrl(global, 'AWS_ENDPOINT_URL'), signingRegion: o.region, source: 'AWS_ENDPOINT_URL' };
  const suffix = SUFFIX[o.partition];
  if (!suffix) {
    throw new AgentError('ARGUMENT_INVALID', `partition "${o.partition}" is not known`, {
      hint: 'pass --endpoint (or endpoint: in the schedule) with the service URL',
    });
  }
  const host = `rolesanywhere${o.fips ? '-fips' : ''}.${o.region}.${suffix}`;
  return { url: `https://${host}`, signingRegion: o.region, source: 'partition' };
}
