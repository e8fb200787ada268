import type { PoolConfig, SshConfig } from '../config/configuration.js';
import type { ConnectBackoff } from './connect-backoff.js';
import { ConnectionGroup } from './connection-group.js';
import { ConnectionKey, SecretHasher } from './connection-key.js';
import type { PoolDialer } from './pool-dialer.js';
import type { PooledConnection } from './pooled-connection.js';
import type { EvictionReason, SshTarget } from './ssh-pool.types.js';

export interface PoolGroupsContext {
  pool: PoolConfig;
  ssh: SshConfig;
  dialer: PoolDialer;
  backoff: ConnectBackoff;
  evicted(connection: PooledConnection, reason: EvictionReason): void;
}

/** The pool's connection groups: one per connection key, made on first use, forgotten once empty. */
export class PoolGroups {
  private readonly groups = new Map<string, ConnectionGroup>();
  private readonly hasher = new SecretHasher();

  constructor(private readonly ctx: PoolGroupsContext) {}

  keyOf(target: SshTarget): ConnectionKey {
    return ConnectionKey.of(target, this.hasher);
  }

  /** The target's group, made now if it has none. */
  for(target: SshTarget): ConnectionGroup {
    const key = this.keyOf(target);
    let group = this.groups.get(key.id);
    if (!group) {
      const { pool, ssh, dialer, backoff } = this.ctx;
      group = new ConnectionGroup(key, {
        now: Date.now,
        maxConnections: pool.maxConnectionsPerKey,
        maxChannels: pool.maxChannelsPerConnection,
        maxLifetimeMs: pool.maxLifetimeMs,
        spareChannels: pool.spareChannels,
        // A peer that leaves a close unconfirmed as long as keepalive would take to call it dead.
        closeBoundMs: ssh.keepaliveIntervalMs * ssh.keepaliveCountMax,
        connect: () => dialer.dial(target, key),
        admit: () => backoff.admit(key, Date.now()),
        evicted: (connection, reason) => this.ctx.evicted(connection, reason),
      });
      this.groups.set(key.id, group);
    }
    return group;
  }

  /** The target's group if it has one. */
  existing(target: SshTarget): ConnectionGroup | undefined {
    return this.groups.get(this.keyOf(target).id);
  }

  all(): ConnectionGroup[] {
    return [...this.groups.values()];
  }

  connections(): PooledConnection[] {
    return this.all().flatMap((g) => g.connections);
  }

  /** Every connection `serverId` is on, with its group. */
  connectionsOf(serverId: string): [ConnectionGroup, PooledConnection][] {
    return this.all().flatMap((group) => group.connections.filter((c) => c.serverIds.has(serverId)).map((c) => [group, c] as [ConnectionGroup, PooledConnection]));
  }

  /** Retires what is past its lifetime or idle too long and forgets empty groups. @returns how many connections closed. */
  cleanup(now: number): number {
    let removed = 0;
    for (const [id, group] of this.groups) {
      removed += group.cleanup(now, this.ctx.pool.idleTimeoutMs);
      if (group.isEmpty) this.groups.delete(id);
    }
    return removed;
  }
}
