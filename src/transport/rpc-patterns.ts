/**
 * The internal transport's message patterns (`{ cmd }`), one per REST operation it mirrors. Other
 * services send these with a ClientProxy; the payload is the REST body/params plus `token`.
 */
export const RpcPattern = {
  POOL_STATS: { cmd: 'pool.stats' },
  POOL_CONNECTIONS: { cmd: 'pool.connections' },
  POOL_CLEANUP: { cmd: 'pool.cleanup' },
  POOL_CLOSE_ALL: { cmd: 'pool.close-all' },
  POOL_REMOVE: { cmd: 'pool.remove' },
  SERVERS_LIST: { cmd: 'servers.list' },
  SERVERS_GET: { cmd: 'servers.get' },
  SERVERS_EXEC: { cmd: 'servers.exec' },
  STATUS_GET: { cmd: 'status.get' },
  STATUS_ALL: { cmd: 'status.all' },
  STATUS_CONNECTION: { cmd: 'status.connection' },
  STATUS_RECONNECT: { cmd: 'status.reconnect' },
  OPERATIONS_START: { cmd: 'operations.start' },
  OPERATIONS_GET: { cmd: 'operations.get' },
  OPERATIONS_CANCEL: { cmd: 'operations.cancel' },
  OPERATIONS_LIST: { cmd: 'operations.list' },
  OPERATIONS_BATCH: { cmd: 'operations.batch' },
  /** Not one reply but one message per event, completing after `done`. */
  OPERATIONS_EVENTS: { cmd: 'operations.events' },
} as const;
