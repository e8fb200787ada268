import { Transform } from 'class-transformer';
import { IsUUID } from 'class-validator';
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
