import type { ConnectionGroup } from './connection-group.js';
import type { PooledConnection } from './pooled-connection.js';
import type { ClosedConnections, EvictionReason } from './ssh-pool.types.js';

/**
 * Retires each connection still in service: an idle one closes now, a busy one takes no new channel
 * and closes when its last command ends. Connections already retiring are not counted again.
 */
export function retireEach(connections: Iterable<readonly [ConnectionGroup, PooledConnection]>, reason: EvictionReason): ClosedConnections {
  const result: ClosedConnections = { closed: 0, retiring: 0 };
  for (const [group, connection] of connections) {
    if (!connection.usable) continue;
    group.retire(connection, reason);
    result.closed++;
    if (connection.alive) result.retiring++;
  }
  return result;
}
