/**
 * The schedule's `serve:` key: the ECS-style and IMDSv2-style credential endpoints for long-running
 * SDK clients (src/serve/). Each listener is `host:port` or `unix:/path`; one off loopback must
 * carry `tls: {certificate, private_key}`, since what it serves are credentials. Checks that need
 * the profile list (the IMDS profile exists) run in checkServeProfiles once the profiles are known.
 */
import { readListen, readPath, readString, type FieldContext, type ListenAddress } from './fields.js';
import { issue, type Position } from './issues.js';
import type { KeySetName } from './keys.js';
import { childPath, type RawEntry, type RawNode } from './node.js';
import { isLoopbackHost } from '../rolesanywhere/endpoint.js';

export interface ServeTls {
  certificate: string;
  privateKey: string;
}

export interface ServeListener {
  /** The address as written (normalised): `127.0.0.1:9912`, `[::1]:9912` or `unix:/run/x.sock`. */
  listen: string;
  target: ListenAddress;
  tls?: ServeTls;
}

export interface ServeSettings {
  ecs?: ServeListener & { tokenDir: string };
  imds?: ServeListener & { profile: string; profilePos?: Position };
}

type Walk = (node: RawNode, path: string, set: KeySetName, ctx: FieldContext, visit: (entry: RawEntry, path: string) => void, options?: { what?: string }) => boolean;

export const UNIX_PREFIX = 'unix:';


function readServeListen(node: RawNode, path: string, ctx: FieldContext): { listen: string; target: ListenAddress } | undefined {
  const text = readString(node, path, ctx);
  if (text === undefined) return undefined;
  if (text.startsWith(UNIX_PREFIX)) {
    const socketPath = text.slice(UNIX_PREFIX.length);
    if (!/^(\/|~\/)/.test(socketPath)) {
      ctx.issues.push(issue(path, node.pos, `"${text}" is not unix:/absolute/path`, 'e.g. unix:/run/rolesanywhere-agent/ecs.sock'));
      return undefined;
    }
    const target = readListen({ kind: 'scalar', value: socketPath, coercible: false, ...(node.pos && { pos: node.pos }) }, path, ctx);
    return target && 'socket' in target ? { listen: `${UNIX_PREFIX}${target.socket}`, target } : undefined;
  }
  if (/^(\/|~\/|\.\.?\/)/.test(text)) {
    ctx.issues.push(issue(path, node.pos, `"${text}" is not host:port or unix:/path`, `write a socket as unix:${text}`));
    return undefined;
  }
  const target = readListen(node, path, ctx);
  if (!target || 'socket' in target) return undefined;
  return { listen: `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`, target };
}

function readTls(node: RawNode, path: string, ctx: FieldContext, walk: Walk): ServeTls | undefined {
  let certificate: string | undefined;
  let privateKey: string | undefined;
  const ok = walk(node, path, 'tls', ctx, (e, q) => {
    if (e.key === 'certificate') certificate = readPath(e.value, q, ctx);
    if (e.key === 'private_key') privateKey = readPath(e.value, q, ctx);
  }, { what: 'a map with certificate: and private_key:' });
  if (!ok) return undefined;
  for (const [key, value] of [['certificate', certificate], ['private_key', privateKey]] as const) {
    if (value === undefined && !(node.kind === 'map' && node.entries.some((e) => e.key === key))) {
      ctx.issues.push(issue(childPath(path, key), node.pos, `tls needs ${key}:`, 'the PEM certificate and private key the listener presents'));
    }
  }
  return certificate !== undefined && privateKey !== undefined ? { certificate, privateKey } : undefined;
}

/** One listener's map (ecs or imds): its listen, tls and the keys particular to it. */
function readListener(
  node: RawNode,
  path: string,
  set: 'serve_ecs' | 'serve_imds',
  ctx: FieldContext,
  walk: Walk,
  extra: (e: RawEntry, q: string) => void,
): ServeListener | undefined {
  let listen: { listen: string; target: ListenAddress } | undefined;
  let listenPos: Position | undefined;
  let tls: ServeTls | undefined;
  let tlsGiven = false;
  const ok = walk(node, path, set, ctx, (e, q) => {
    if (e.key === 'listen') {
      listen = readServeListen(e.value, q, ctx);
      listenPos = e.value.pos;
    } else if (e.key === 'tls') {
      tlsGiven = true;
      tls = readTls(e.value, q, ctx, walk);
    } else extra(e, q);
  }, { what: `a map of ${set === 'serve_ecs' ? 'ECS' : 'IMDS'} endpoint settings` });
  if (!ok) return undefined;
  const example = set === 'serve_ecs' ? '127.0.0.1:9912' : '127.0.0.1:9911';
  if (node.kind === 'map' && !node.entries.some((e) => e.key === 'listen')) {
    ctx.issues.push(issue(childPath(path, 'listen'), node.pos, `${path} needs listen:`, `e.g. listen: "${example}" or "unix:/run/rolesanywhere-agent/${set === 'serve_ecs' ? 'ecs' : 'imds'}.sock"`));
  }
  if (!listen) return undefined;
  if ('host' in listen.target && !isLoopbackHost(listen.target.host) && !tls && !tlsGiven) {
    ctx.issues.push(
      issue(
        childPath(path, 'listen'),
        listenPos,
        `${listen.listen} is not on loopback: credentials would cross the network in clear text`,
        `listen on 127.0.0.1 (e.g. "${example}") or a unix: socket, or add tls: { certificate: …, private_key: … } to this listener`,
      ),
    );
    return undefined;
  }
  return { ...listen, ...(tls && { tls }) };
}

/** Reads `serve:`; undefined when off or broken (the issues say why). */
export function readServe(node: RawNode, path: string, ctx: FieldContext, walk: Walk): ServeSettings | undefined {
  const out: ServeSettings = {};
  let broken = false;
  const ok = walk(node, path, 'serve', ctx, (entry, p) => {
    const v = entry.value;
    if (v.kind === 'scalar' && v.value === null && !v.failed) return;
    if (entry.key === 'ecs') {
      let tokenDir: string | undefined;
      let tokenDirSeen = false;
      const l = readListener(v, p, 'serve_ecs', ctx, walk, (e, q) => {
        if (e.key !== 'token_dir') return;
        tokenDirSeen = true;
        tokenDir = readPath(e.value, q, ctx);
      });
      if (v.kind === 'map' && !tokenDirSeen) {
        ctx.issues.push(issue(childPath(p, 'token_dir'), v.pos, 'serve.ecs needs token_dir:', 'the directory where the agent writes <profile>.token for each profile, e.g. /run/rolesanywhere-agent/tokens'));
      }
      if (l && tokenDir !== undefined) out.ecs = { ...l, tokenDir };
      else broken = true;
    } else if (entry.key === 'imds') {
      let profile: string | undefined;
      let profilePos: Position | undefined;
      const l = readListener(v, p, 'serve_imds', ctx, walk, (e, q) => {
        if (e.key !== 'profile') return;
        profile = readString(e.value, q, ctx);
        profilePos = e.value.pos;
      });
      if (v.kind === 'map' && !v.entries.some((e) => e.key === 'profile')) {
        ctx.issues.push(issue(childPath(p, 'profile'), v.pos, 'serve.imds needs profile:', 'the one profile served as the instance role, e.g. profile: app'));
      }
      if (l && profile !== undefined) out.imds = { ...l, profile, ...(profilePos && { profilePos }) };
      else broken = true;
    }
  }, { what: 'a map with ecs: and/or imds:' });
  if (!ok || broken) return undefined;
  if (out.ecs && out.imds && out.ecs.listen === out.imds.listen && !/:0$/.test(out.ecs.listen)) {
    ctx.issues.push(issue(`${path}.imds.listen`, undefined, `serve.ecs and serve.imds both listen on ${out.ecs.listen}`, 'give each endpoint its own address'));
    return undefined;
  }
  return out.ecs || out.imds ? out : undefined;
}

/** The IMDS profile must be one of the schedule's profiles. */
export function checkServeProfiles(serve: ServeSettings | undefined, names: readonly string[], ctx: FieldContext): void {
  const p = serve?.imds?.profile;
  if (p === undefined || names.includes(p)) return;
  ctx.issues.push(issue('serve.imds.profile', serve!.imds!.profilePos, `no profile named "${p}" in the schedule`, names.length ? `serve one of: ${names.join(', ')}` : undefined));
}
