import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { ACTIONS, type Action } from '../operations/operation.entity.js';
import { HistoryQueryDto } from '../operations/operations.dto.js';
import { ExecCommandDto } from '../servers/servers.dto.js';

/** Ids are stored in lower case; REST's UuidParam accepts any case the same way. */
const lowerCase = Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value));
const uuid = IsUUID('all', { message: '$property must be a UUID' });

/** `servers.get`: REST's `:id`. */
export class ServerIdPayload {
  @uuid @lowerCase id!: string;
}

/** `servers.exec`: REST's `:id` plus the exec body, validated by the same ExecCommandDto rules. */
export class ExecPayload extends ExecCommandDto {
  @uuid @lowerCase id!: string;
}

/** `status.*` and `pool.remove`: REST's `:serverId`. */
export class ServerRefPayload {
  @uuid @lowerCase serverId!: string;
}

/** `operations.get` and `operations.cancel`: REST's `/api/operations/:id`. */
export class OperationIdPayload {
  @uuid @lowerCase id!: string;
}

/** `operations.start`: REST's `/api/servers/:id/actions/:action`. */
export class StartOperationPayload {
  @uuid @lowerCase id!: string;
  @IsIn(ACTIONS) action!: Action;
}

/** `operations.list`: REST's `/api/servers/:id/operations` and its query (limit 1-100, offset >= 0). */
export class OperationHistoryPayload extends HistoryQueryDto {
  @uuid @lowerCase id!: string;
}

/** `operations.events`: REST's `:id` and `Last-Event-ID` (the last event id the caller has; none = from the start). */
export class OperationEventsPayload {
  @uuid @lowerCase id!: string;
  @IsOptional() @IsInt() @Min(0) @Max(999_999_999) lastEventId?: number;
}
