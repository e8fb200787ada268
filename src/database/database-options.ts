import type { DataSourceOptions } from 'typeorm';
import { HostKeyEntity } from '../servers/host-key.entity.js';
import { ServerEntity } from '../servers/server.entity.js';
import { OperationEntity, OperationEventEntity } from '../operations/operation.entity.js';
import { IdempotencyKeyEntity } from '../idempotency/idempotency-key.entity.js';
import { InitialSchema1764150000000 } from './migrations/1764150000000-initial-schema.js';
import { Operations1764800000000 } from './migrations/1764800000000-operations.js';
import { IdempotencyKeys1764900000000 } from './migrations/1764900000000-idempotency-keys.js';
import { OperationCancelRequests1765000000000 } from './migrations/1765000000000-operation-cancel-requests.js';
import { TypeOrmLogger } from './typeorm-logger.js';

export const ENTITIES = [ServerEntity, HostKeyEntity, OperationEntity, OperationEventEntity, IdempotencyKeyEntity];
export const MIGRATIONS = [InitialSchema1764150000000, Operations1764800000000, IdempotencyKeys1764900000000, OperationCancelRequests1765000000000];

/**
 * `sqlite:<path>`, `sqlite::memory:` or `postgres://…` to TypeORM options. The schema comes only
 * from migrations, which openDataSource runs at start in every environment including tests.
 */
export function dataSourceOptions(url: string): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    logger: new TypeOrmLogger(),
  } as const;
  if (url.startsWith('sqlite:')) {
    return { type: 'better-sqlite3', database: sqlitePath(url), ...common };
  }
  return { type: 'postgres', url, ...common };
}

/** Also accepts the URL form `sqlite:///abs/path`. */
export function sqlitePath(url: string): string {
  const rest = url.slice('sqlite:'.length);
  return rest.startsWith('//') ? rest.slice(2) : rest;
}
