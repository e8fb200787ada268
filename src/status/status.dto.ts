import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ServerEntity } from '../servers/server.entity.js';
import { matchServer } from './process-match.js';
import type { ProbeSnapshot } from './status-probe.js';

/** Why a reached host gave no trustworthy answer; `error` also carries SshPoolError/ServerError codes. */
export enum ProbeFailureCode {
  /** The probe exited non-zero or printed something that is not the probe's output. */
  FAILED = 'STATUS_PROBE_FAILED',
  /** More candidate processes than the probe reads: a server it did not find may still be running. */
  INCOMPLETE = 'STATUS_PROBE_INCOMPLETE',
}

/** `GET /api/server-status[/:serverId]`: one game server's state as its host's last probe saw it. */
export class ServerStatusDto {
  @ApiProperty({ format: 'uuid' }) serverId!: string;
  @ApiProperty() reachable!: boolean;
  @ApiProperty({ description: 'A process runs `<gameDirectory>/game/bin/linuxsteamrt64/cs2` (its argv[0], resolved) with `-port <gamePort>`' }) running!: boolean;
  @ApiPropertyOptional({ type: 'integer', description: 'Only when running' }) pid?: number;
  @ApiPropertyOptional({ type: 'integer', description: 'Only when running' }) uptimeSeconds?: number;
  @ApiProperty({ format: 'date-time', description: 'When the probe finished (older than now when served from the cache)' }) checkedAt!: string;
  @ApiProperty({ type: 'integer', description: 'How long the probe took, connecting included' }) latencyMs!: number;
  @ApiPropertyOptional({
    description: 'Why the host gave no full answer: an SSH error code (e.g. SSH_UNREACHABLE, EXEC_TIMEOUT) or STATUS_PROBE_FAILED / STATUS_PROBE_INCOMPLETE',
    example: 'SSH_UNREACHABLE',
  })
  error?: string;
}

/** One host probe's result, shared by every server of that host. */
export type ProbeOutcome =
  | { kind: 'snapshot'; snapshot: ProbeSnapshot; checkedAt: Date; latencyMs: number }
  | { kind: 'failed'; reachable: boolean; error: string; checkedAt: Date; latencyMs: number };

/** The only way a status answer is built: explicit fields, nothing else from the record. */
export function toServerStatus(server: ServerEntity, outcome: ProbeOutcome): ServerStatusDto {
  const base = { serverId: server.id, checkedAt: outcome.checkedAt.toISOString(), latencyMs: outcome.latencyMs };
  if (outcome.kind === 'failed') return { ...base, reachable: outcome.reachable, running: false, error: outcome.error };
  const match = matchServer(outcome.snapshot, server.gameDirectory, server.gamePort);
  if (match) return { ...base, reachable: true, running: true, pid: match.pid, uptimeSeconds: match.uptimeSeconds };
  const incomplete = outcome.snapshot.truncated ? { error: ProbeFailureCode.INCOMPLETE } : {};
  return { ...base, reachable: true, running: false, ...incomplete };
}
