import type { ClosedConnections, ConnectionInfo, TargetConnections } from '../ssh-pool/ssh-pool.types.js';

/**
 * One pooled connection as the API shows it: the display key (no secret, no hash of one), never a
 * credential. Built field by field by toConnectionResponse, so a field ConnectionInfo gains later
 * fails to compile there until someone decides it may be published.
 */
export type ConnectionResponseDto = ConnectionInfo;

export interface ConnectionsResponseDto {
  success: true;
  connections: ConnectionResponseDto[];
}

export interface CleanupResponseDto {
  success: true;
  removed: number;
}

/** `closed`: connections taken out of service; `retiring`: how many of them still finish running commands. */
export interface CloseAllResponseDto extends ClosedConnections {
  success: true;
}

export interface RemoveResponseDto {
  success: true;
  removed: number;
  retiring: number;
}

/** The seed's `get_connection_info` for one server: its key, whether it has a live connection, and its host's backoff. */
export interface ServerConnectionResponseDto {
  success: true;
  serverId: string;
  key: string;
  connected: boolean;
  hostDown: boolean;
  connections: ConnectionResponseDto[];
}

export interface ReconnectResponseDto {
  success: true;
  serverId: string;
  connection: ConnectionResponseDto;
}

export function toConnectionResponse(info: ConnectionInfo): ConnectionResponseDto {
  const { id, key, host, port, username, authType, alive, retiring, createdAt, lastUsedAt } = info;
  const { ageSeconds, idleSeconds, channelsInUse, channelLimit, commandsRun, serverIds } = info;
  return { id, key, host, port, username, authType, alive, retiring, createdAt, lastUsedAt, ageSeconds, idleSeconds, channelsInUse, channelLimit, commandsRun, serverIds };
}

export function toServerConnectionResponse(serverId: string, target: TargetConnections): ServerConnectionResponseDto {
  const connections = target.connections.map(toConnectionResponse);
  const connected = connections.some((c) => c.alive && !c.retiring);
  return { success: true, serverId, key: target.key, connected, hostDown: target.hostDown, connections };
}
