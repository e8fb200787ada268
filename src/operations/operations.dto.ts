import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsIn, IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { ACTIONS, type Action } from './operation.entity.js';

export const MAX_BATCH = 100;
/** Operations listed per page unless the caller asks for another number. */
export const HISTORY_LIMIT = 20;
/** The largest offset a page may start at: an exact integer that PostgreSQL's and SQLite's 64-bit columns take. */
export const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

export class ActionParamsDto {
  @IsIn(ACTIONS)
  @ApiProperty({ enum: ACTIONS, enumName: 'Action' })
  action!: Action;
}

/** Ids are stored in lower case, and the single-server routes take any case: so do batches, before the uniqueness check. */
const lowerCaseEach = Transform(({ value }: { value: unknown }) => (Array.isArray(value) ? value.map((v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v)) : value));

export class BatchOperationsDto {
  @lowerCaseEach
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  @ApiProperty({ type: [String], format: 'uuid', minItems: 1, maxItems: MAX_BATCH, uniqueItems: true })
  serverIds!: string[];

  @IsIn(ACTIONS)
  @ApiProperty({ enum: ACTIONS, enumName: 'Action' })
  action!: Action;
}

export class HistoryQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: HISTORY_LIMIT })
  limit?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET) // beyond it no database takes the number
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0 })
  offset?: number;
}
