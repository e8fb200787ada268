import type { SshTarget } from '../../src/ssh-pool/ssh-pool.types.js';
import type { SshdHost, TestUser } from './sshd.js';

/** A pool target for the harness's test user on `host`, by password unless `auth` says otherwise. */
export function targetOn(host: SshdHost, user: TestUser, overrides: Partial<SshTarget> = {}): SshTarget {
  return {
    serverId: 'server-1',
    host: host.host,
    port: host.port,
    username: user.username,
    auth: { type: 'PASSWORD', password: user.password },
    ...overrides,
  };
}

/** Polls `predicate` every 25 ms; rejects with `what` after `timeoutMs`. */
export async function eventually(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
