/**
 * Where CreateSession goes: an explicit endpoint (flag, schedule, or AWS_ENDPOINT_URL_ROLESANYWHERE /
 * AWS_ENDPOINT_URL), else `rolesanywhere[-fips].<region>.<partition suffix>`. The signing region is
 * always the plain region, also for FIPS endpoints. `endpointUrlProblem` is the one rule for an
 * endpoint URL wherever it comes from (schedule, --endpoint, the environment): https, or plain http
 * to a loopback host only (the local emulator), with no credentials, query or fragment.
 */
import { AgentError } from '../errors.js';
import { envVar, table } from '../lookup.js';

const SUFFIX = table({
  aws: 'amazonaws.com',
  'aws-us-gov': 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
  'aws-iso': 'c2s.ic.gov',
  'aws-iso-b': 'sc2s.sgov.gov',
  'aws-iso-e': 'cloud.adc-e.uk',
  'aws-iso-f': 'csp.hci.ic.gov',
});

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

/**
 * localhost, 127.0.0.0/8 and ::1 (bare, or bracketed as in a URL): where plain http stays on this
 * machine. The one rule for endpoints, `serve:` and `http:` listeners alike.
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '::1' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

export interface UrlProblem {
  message: string;
  hint: string;
}

/** Why `text` cannot be a CreateSession endpoint, or undefined when it can. Never quotes a password. */
export function endpointUrlProblem(text: string): UrlProblem | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { message: `"${text.length > 200 ? `${text.slice(0, 200)}…` : text}" is not a URL`, hint: 'e.g. https://rolesanywhere.eu-west-1.amazonaws.com' };
  }
  const shown = u.username || u.password ? `"${u.protocol}//***@${u.host}${u.pathname}"` : `"${text}"`;
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) {
    return { message: `${shown} must use https`, hint: 'plain http is accepted only on loopback (127.0.0.1, [::1], localhost), e.g. for the local emulator' };
  }
  if (u.username || u.password || u.search || u.hash) {
    return { message: `${shown} must not contain credentials, a query or a fragment`, hint: 'give scheme, host, optional port and path only' };
  }
  return undefined;
}

function checkUrl(text: string, what: string): string {
  const problem = endpointUrlProblem(text);
  if (problem) throw new AgentError('ARGUMENT_INVALID', `${what} ${problem.message}`, { hint: problem.hint });
  return new URL(text).toString().replace(/\/+$/, '');
}

/** The endpoint variables of the environment that break the rule, one error each (for validate). */
export function endpointEnvProblems(env: NodeJS.ProcessEnv): AgentError[] {
  return (['AWS_ENDPOINT_URL_ROLESANYWHERE', 'AWS_ENDPOINT_URL'] as const).flatMap((name) => {
    const text = envVar(env, name);
    const problem = text ? endpointUrlProblem(text) : undefined;
    return problem ? [new AgentError('ARGUMENT_INVALID', `${name} ${problem.message}`, { hint: problem.hint })] : [];
  });
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
