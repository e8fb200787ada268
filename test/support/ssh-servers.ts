// POST /api/servers bodies that point at a harness sshd as its test user.
import { randomBytes } from 'node:crypto';
import type { SshdHost, TestUser } from './sshd.js';

export function sshServerBody(sshd: SshdHost, user: TestUser, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `srv-${randomBytes(4).toString('hex')}`,
    host: sshd.host,
    sshPort: sshd.port,
    sshUser: user.username,
    authType: 'PASSWORD',
    sshPassword: user.password,
    gameDirectory: '/tmp',
    gamePort: 27015,
    ...overrides,
  };
}

/** A world-writable path the remote test user can create and the (root) test can inspect. */
export function remoteScratchPath(what: string): string {
  return `/tmp/cs2-e2e-${what}-${randomBytes(6).toString('hex')}`;
}
