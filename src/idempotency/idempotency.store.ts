import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, type DataSource, IsNull, LessThan, LessThanOrEqual, Not } from 'typeorm';
import { isUniqueViolation } from '../database/database-errors.js';
import { IdempotencyKeyEntity } from './idempotency-key.entity.js';

/** An answer as stored: its status and its body as JSON (null: no body). */
export interface StoredAnswer {
  statusCode: number;
  response: string | null;
}

/**
 * The idempotency_keys table. Every write that ends a request is conditional on the row still
 * being in progress (and, for its owner, still its own), so an answer is written once.
 */
@Injectable()
export class IdempotencyStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  get isPostgres(): boolean {
    return this.dataSource.options.type === 'postgres';
  }

  /** @returns false when the caller already holds this key: the primary key decides, whichever replica asked. */
  async insert(record: IdempotencyKeyEntity): Promise<boolean> {
    try {
      await this.repo().insert(record);
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  find(caller: string, key: string): Promise<IdempotencyKeyEntity | null> {
    return this.repo().findOneBy({ caller, key });
  }

  /** Frees a key whose time is up, unless its request still runs. */
  async removeExpired(caller: string, key: string, now: Date): Promise<void> {
    await this.repo().delete({ caller, key, expiresAt: LessThanOrEqual(now), statusCode: Not(IsNull()) });
  }

  /** The owner stores its answer. @returns false when the row is no longer its in-progress one (taken over as abandoned). */
  async complete(caller: string, key: string, ownerId: string, answer: StoredAnswer): Promise<boolean> {
    const result = await this.repo().update({ caller, key, ownerId, statusCode: IsNull() }, answer);
    return Boolean(result.affected);
  }

  /**
   * Another replica ends a request whose owner is gone: the row still in progress under `ownerId`,
   * and (`staleBefore`) its lease ran out before then. @returns false when something else ended it first
   */
  async abandon(caller: string, key: string, ownerId: string, staleBefore: Date | null, answer: StoredAnswer): Promise<boolean> {
    const stale = staleBefore ? { leaseExpiresAt: LessThan(staleBefore) } : {};
    const result = await this.repo().update({ caller, key, ownerId, statusCode: IsNull(), ...stale }, answer);
    return Boolean(result.affected);
  }

  /** Extends the lease of every request `ownerId` still runs. */
  async renew(ownerId: string, until: Date): Promise<void> {
    await this.repo().update({ ownerId, statusCode: IsNull() }, { leaseExpiresAt: until });
  }

  /** Deletes the expired keys, except those whose request still runs on a live replica. @returns how many */
  async prune(now: Date): Promise<number> {
    const result = await this.repo()
      .createQueryBuilder()
      .delete()
      .where('expires_at <= :now', { now })
      .andWhere(new Brackets((ended) => ended.where('status_code IS NOT NULL').orWhere('lease_expires_at < :now', { now })))
      .execute();
    return result.affected ?? 0;
  }

  private repo() {
    return this.dataSource.getRepository(IdempotencyKeyEntity);
  }
}
