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
