/**
 * A unix-socket listener's path before bind: a socket left by a process that is gone is removed;
 * anything else there (a file, a live listener) is refused, since the agent never removes what it
 * did not make. Shared by the observability listener and the credential endpoints.
 */
import { lstat, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { AgentError } from '../errors.js';

/** `what` names the listener in messages (`http`, `serve.ecs`): `<what>.listen: …`. */
export async function removeStaleSocket(what: string, path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!st.isSocket()) {
    throw new AgentError('CONFIG_INVALID', `${what}.listen: ${path} exists and is not a socket`, { hint: 'choose another socket path; the agent never removes a file it did not make' });
  }
  const inUse = await new Promise<boolean>((resolve) => {
    const c = connect({ path }, () => (c.destroy(), resolve(true)));
    c.on('error', () => resolve(false));
  });
  if (inUse) throw new AgentError('CONFIG_INVALID', `${what}.listen: another process listens on ${path}`, { hint: 'stop the other agent, or choose another socket path' });
  await rm(path, { force: true });
}
