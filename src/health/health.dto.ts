import { ApiProperty } from '@nestjs/swagger';

export class LiveResponseDto {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

/** Terminus' per-indicator results: `{ ssh_pool: { status: 'up', … }, database: { status: 'up' } }`. */
const INDICATORS = ApiProperty({
  type: 'object',
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['up', 'down'] } },
    additionalProperties: true,
  },
  example: { ssh_pool: { status: 'up', enabled: true, connections: 2, inUse: 0 }, database: { status: 'up' } },
});

/** Terminus' report when every indicator is up; while not ready it is the 503 body's `details`. */
export class ReadinessReportDto {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
  @INDICATORS info!: Record<string, unknown>;
  @INDICATORS error!: Record<string, unknown>;
  @INDICATORS details!: Record<string, unknown>;
}
