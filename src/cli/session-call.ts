/**
 * One CreateSession from command-line settings: load and check the key material, open a transport,
 * call, close both. Its own module so that `credential-process` loads the signer, the key parsers
 * and TLS only when it has to call (not for --help, not on a cache hit).
 */
import type { Credentials } from '../credentials.js';
import { loadSigner } from '../keys/load.js';
import type { Signer } from '../keys/signer.js';
import { createSession } from '../rolesanywhere/client.js';
import { makeTransport, type Transport } from '../rolesanywhere/transport.js';
import type { CommandIO } from './io.js';
import type { SessionSettings } from '../config/profile/flags.js';

export async function callCreateSession(s: SessionSettings, io: CommandIO): Promise<Credentials> {
  let signer: Signer | undefined;
  let transport: Transport | undefined;
  try {
    signer = await loadSigner(s.key, { env: io.env, clock: io.clock });
    transport = makeTransport(s.transport, io.env);
    const debug = s.debug ? (m: string) => io.stderr.write(`[debug] ${m}\n`) : undefined;
    // No context: every line already starts with the command's name, and createSession's default
    // (`role <arn>`) says which role a refusal is about.
    const result = await createSession(signer, { ...s.session, signal: io.signal }, {
      transport,
      clock: io.clock,
      ...(debug ? { debug } : {}),
    });
    return result.credentials;
  } finally {
    await signer?.close().catch(() => {});
    await transport?.close().catch(() => {});
  }
}
