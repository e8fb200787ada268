import { ApiProperty } from '@nestjs/swagger';
import type { ClosedConnections, ConnectionInfo, EvictionReason, PoolStats, TargetConnections } from '../ssh-pool/ssh-pool.types.js';
import { AUTH_TYPES, type AuthType } from '../servers/server.entity.js';

const count = (description?: string) => ApiProperty({ type: 'integer', minimum: 0, description });
const SUCCESS = ApiProperty({ enum: [true] });

/**
 * One pooled connection as the API shows it: the display key (no secret, no hash of one), never a
 * credential. Built field by field by toConnectionResponse, so a field ConnectionInfo gains later
 * fails to compile there until someone decides it may be published.
 */
export class ConnectionResponseDto implements ConnectionInfo {
  @ApiProperty({ type: 'integer' }) id!: number;
  @ApiProperty({ description: 'user@host:port/AUTH#suffix; the suffix is a prefix of a keyed hash whose key exists only in the process', example: 'cs2@10.0.0.5:22/PASSWORD#1f0c9a7b2e4d' })
  key!: string;
  @ApiProperty() host!: string;
  @ApiProperty({ type: 'integer' }) port!: number;
  @ApiProperty() username!: string;
  @ApiProperty({ enum: AUTH_TYPES, enumName: 'AuthType' }) authType!: AuthType;
  @ApiProperty() alive!: boolean;
  @ApiProperty({ description: 'Takes no new command; closes when its last one ends' }) retiring!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) lastUsedAt!: string;
  @count() ageSeconds!: number;
  @count() idleSeconds!: number;
  @count() channelsInUse!: number;
  @count('The limit learned from the host’s refusals') channelLimit!: number;
  @count() commandsRun!: number;
  @ApiProperty({ type: [String], format: 'uuid' }) serverIds!: string[];
}

export class EvictionsDto implements Record<EvictionReason, number> {
  @count() idle!: number;
  @count() lifetime!: number;
  @count() dead!: number;
  @count() removed!: number;
  @count() closed!: number;
  @count() shutdown!: number;
  @count('The server never confirmed closing a channel') stuck!: number;
}

/** The seed's statistics (snake_case, kept for existing dashboards) and the pool's own counters. */
export class PoolStatsDto implements PoolStats {
  @count() total_connections!: number;
  @count() alive_connections!: number;
  @count() in_use_connections!: number;
  @count() idle_connections!: number;
  @count('POOL_IDLE_TIMEOUT_S') idle_timeout!: number;
  @count('POOL_MAX_LIFETIME_S') max_lifetime!: number;
  @ApiProperty({ description: 'SSH_POOL_ENABLED' }) enabled!: boolean;
  @count() keys!: number;
  @count() channels_in_use!: number;
  @count() waiters!: number;
  @count() connecting!: number;
  @count() hits!: number;
  @count() misses!: number;
  @count() connects!: number;
  @count() connect_failures!: number;
  @count() channel_open_refusals!: number;
  @count() commands!: number;
  @count('Spare channels open and idle now (SSH_SPARE_CHANNELS)') spare_channels!: number;
  @count('Commands that ran on a spare channel: one round trip instead of two') spare_hits!: number;
  @ApiProperty() evictions!: EvictionsDto;
}

/** The seed's shape, kept for existing dashboards. */
export class PoolStatsResponseDto {
  @SUCCESS success!: true;
  @ApiProperty() pool_stats!: PoolStatsDto;
}

export class ConnectionsResponseDto {
  @SUCCESS success!: true;
  @ApiProperty({ type: [ConnectionResponseDto] }) connections!: ConnectionResponseDto[];
}

export class CleanupResponseDto {
  @SUCCESS success!: true;
  @count('Connections closed for idleness or age') removed!: number;
}

/** `closed`: connections taken out of service; `retiring`: how many of them still finish running commands. */
export class CloseAllResponseDto implements ClosedConnections {
  @SUCCESS success!: true;
  @count('Connections taken out of service') closed!: number;
  @count('Of those, still finishing running commands') retiring!: number;
}

export class RemoveResponseDto {
  @SUCCESS success!: true;
  @count('Connections taken out of service') removed!: number;
  @count('Of those, still finishing running commands') retiring!: number;
}

/** The seed's `get_connection_info` for one server: its key, whether it has a live connection, and its host's backoff. */
export class ServerConnectionResponseDto {
  @SUCCESS success!: true;
  @ApiProperty({ format: 'uuid' }) serverId!: string;
  @ApiProperty() key!: string;
  @ApiProperty({ description: 'A live connection takes new commands' }) connected!: boolean;
  @ApiProperty({ description: 'The host is backing off after failed connects (SSH_HOST_DOWN)' }) hostDown!: boolean;
  @ApiProperty({ type: [ConnectionResponseDto] }) connections!: ConnectionResponseDto[];
}

export class ReconnectResponseDto {
  @SUCCESS success!: true;
  @ApiProperty({ format: 'uuid' }) serverId!: string;
  @ApiProperty() connection!: ConnectionResponseDto;
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
