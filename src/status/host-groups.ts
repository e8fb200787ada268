import type { ServerEntity } from '../servers/server.entity.js';
import type { ServerWithTarget } from '../servers/servers.service.js';
import { ConnectionKey, SecretHasher } from '../ssh-pool/connection-key.js';
import type { SshTarget } from '../ssh-pool/ssh-pool.types.js';

/** Servers that share one pooled connection, hence one probe: same host, port, user and credentials. */
export interface HostGroup {
  key: string;
  /** Any member's target: all of them open the same connection. */
  target: SshTarget;
  servers: ServerEntity[];
}

/** Groups servers by the pool's connection key; servers without a target are left out. */
export function groupByConnection(entries: readonly ServerWithTarget[], hasher: SecretHasher): HostGroup[] {
  const groups = new Map<string, HostGroup>();
  for (const entry of entries) {
    if (!('target' in entry)) continue;
    const key = ConnectionKey.of(entry.target, hasher).id;
    const group = groups.get(key);
    if (group) group.servers.push(entry.server);
    else groups.set(key, { key, target: entry.target, servers: [entry.server] });
  }
  return [...groups.values()];
}
