import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager, type FindOptionsWhere, In, LessThan, MoreThan, Not } from 'typeorm';
import { isUniqueViolation } from '../database/database-errors.js';
import { OperationEntity, OperationEventEntity, type OperationEventType } from './operation.entity.js';
import { OperationError, OperationErrorCode } from './operations.errors.js';

export interface NewEvent {
  type: OperationEventType;
  data: unknown;
}

export interface StoredEvent {
  seq: number;
  type: OperationEventType;
  data: unknown;
}

/** What an operation's row shows besides its events. */
export interface OperationState {
  progress: number | null;
  outputTail: string;
}

export interface FinalState extends OperationState {
  status: OperationEntity['status'];
  exitCode: number | null;
  error: { code: string; message: string } | null;
  finishedAt: Date;
}

/** Events read per query while replaying. */
const PAGE = 500;

/**
 * The operations tables. Every write that adds events moves `last_seq` on the condition that it is
 * still what the writer read, so that the replica running an operation and one that declares it
 * interrupted can never both number an event: the loser's write changes nothing.
 */
@Injectable()
export class OperationStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  get isPostgres(): boolean {
    return this.dataSource.options.type === 'postgres';
  }

  /**
   * Inserts running operations, all or none. @throws OperationError OPERATION_IN_PROGRESS naming the
   * busy servers (the database's one-running-per-server index decides, whichever replica asked).
   */
  async createRunning(operations: OperationEntity[]): Promise<void> {
    try {
      await this.dataSource.transaction((manager) => manager.insert(OperationEntity, operations));
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const busy = await this.running(operations.map((o) => o.serverId));
      throw busyError(busy);
    }
  }

  running(serverIds: string[]): Promise<OperationEntity[]> {
    return this.repo().findBy({ serverId: In(serverIds), status: 'running' });
  }

  byIds(ids: string[]): Promise<OperationEntity[]> {
    return this.repo().findBy({ id: In(ids) });
  }

  get(id: string): Promise<OperationEntity | null> {
    return this.repo().findOneBy({ id });
  }

  history(serverId: string, limit: number, offset: number): Promise<[OperationEntity[], number]> {
    return this.repo().findAndCount({ where: { serverId }, order: { startedAt: 'DESC', id: 'DESC' }, take: limit, skip: offset });
  }

  /** Events after `afterSeq`, in order, at most `limit` (one page). */
  async events(operationId: string, afterSeq: number, limit = PAGE): Promise<StoredEvent[]> {
    const rows = await this.dataSource.getRepository(OperationEventEntity).find({
      // `seq > ?`, a range on the primary key: SQLite scans `NOT (seq < ?)` from the first event, every page.
      where: { operationId, seq: MoreThan(afterSeq) },
      order: { seq: 'ASC' },
      take: limit,
    });
    return rows.map((row) => ({ seq: row.seq, type: row.type, data: JSON.parse(row.data) as unknown }));
  }

  /** Appends events numbered from `lastSeq + 1`. @returns false when the operation is no longer its writer's (ended elsewhere). */
  append(id: string, lastSeq: number, events: NewEvent[], state: OperationState): Promise<boolean> {
    return this.write(id, lastSeq, events, { ...state }, { status: 'running' });
  }

  /** Ends the operation with its last events (the `done` event among them). @returns false as `append` does. */
  finish(id: string, lastSeq: number, events: NewEvent[], final: FinalState, expect: FindOptionsWhere<OperationEntity> = {}): Promise<boolean> {
    const { error, ...rest } = final;
    return this.write(id, lastSeq, events, { ...rest, errorCode: error?.code ?? null, errorMessage: error?.message ?? null }, { status: 'running', ...expect });
  }

  /**
   * Extends the leases of `ids`, the runs `ownerId` still has in hand: never that of a run which
   * ended here without storing its end, so that another replica can end it.
   */
  async renew(ownerId: string, ids: string[], until: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.repo().update({ id: In(ids), ownerId, status: 'running' }, { leaseExpiresAt: until });
  }

  /** Records a cancel on the running operation. @returns false when it is not running (any more). */
  async requestCancel(id: string, at: Date): Promise<boolean> {
    const result = await this.repo().update({ id, status: 'running' }, { cancelRequestedAt: at });
    return Boolean(result.affected);
  }

  /** Running operations whose lease ran out before `now`, or (`ownerIsNot`) that another process owns. */
  stale(now: Date, ownerIsNot?: string): Promise<OperationEntity[]> {
    const where = ownerIsNot ? { status: 'running' as const, ownerId: Not(ownerIsNot) } : { status: 'running' as const, leaseExpiresAt: LessThan(now) };
    return this.repo().findBy(where);
  }

  /** Deletes the events of operations that ended before `before` (their rows and tails stay). */
  async pruneEvents(before: Date): Promise<void> {
    const ended = this.repo().createQueryBuilder('o').select('o.id').where('o.finished_at < :before', { before });
    await this.dataSource
      .createQueryBuilder()
      .delete()
      .from(OperationEventEntity)
      .where(`operation_id IN (${ended.getQuery()})`)
      .setParameters(ended.getParameters())
      .execute();
  }

  private async write(id: string, lastSeq: number, events: NewEvent[], patch: Partial<OperationEntity>, expect: FindOptionsWhere<OperationEntity>): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const nextSeq = lastSeq + events.length;
      const result = await manager.update(OperationEntity, { id, lastSeq, ...expect }, { ...patch, lastSeq: nextSeq });
      if (!result.affected) return false;
      await insertEvents(manager, id, lastSeq, events);
      return true;
    });
  }

  private repo() {
    return this.dataSource.getRepository(OperationEntity);
  }
}

async function insertEvents(manager: EntityManager, operationId: string, lastSeq: number, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const createdAt = new Date();
  const rows = events.map((event, i) => ({ operationId, seq: lastSeq + i + 1, type: event.type, data: JSON.stringify(event.data), createdAt }));
  // Bounded batches: SQLite allows at most 32766 bound parameters per statement.
  for (let i = 0; i < rows.length; i += 1000) await manager.insert(OperationEventEntity, rows.slice(i, i + 1000));
}

function busyError(busy: OperationEntity[]): OperationError {
  const [first] = busy;
  const message =
    busy.length === 1 ? `Server ${first.serverId} is running operation ${first.id} (${first.action})` : 'Another operation of the server(s) is running';
  return new OperationError(OperationErrorCode.IN_PROGRESS, message, {
    serverIds: busy.map((o) => o.serverId),
    ...(busy.length === 1 ? { serverId: first.serverId, operationId: first.id } : {}),
  });
}
