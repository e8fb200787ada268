// An in-memory operations store with the same numbering rule as OperationStore (a write lands only
// when `lastSeq` is still what the writer read) and a signal hub, for the operations unit specs.
import type { MessageEvent } from '@nestjs/common';
import { firstValueFrom, toArray, type Observable } from 'rxjs';
import { type OperationEntity, runningOperation } from '../../src/operations/operation.entity.js';
import type { FinalState, NewEvent, OperationState, StoredEvent } from '../../src/operations/operation-store.js';

export class FakeOperationStore {
  readonly rows = new Map<string, OperationEntity>();
  readonly stored = new Map<string, StoredEvent[]>();
  /** Throws this many of the next writes (the database is away). */
  failNextWrites = 0;
  writes = 0;

  add(id: string, overrides: Partial<OperationEntity> = {}): OperationEntity {
    const row = Object.assign(runningOperation({ id, serverId: 's', action: 'update', ownerId: 'me', leaseExpiresAt: new Date(), startedAt: new Date() }), overrides);
    this.rows.set(id, row);
    this.stored.set(id, []);
    return row;
  }

  async append(id: string, lastSeq: number, events: NewEvent[], state: OperationState): Promise<boolean> {
    return this.write(id, lastSeq, events, state);
  }

  async finish(id: string, lastSeq: number, events: NewEvent[], final: FinalState): Promise<boolean> {
    const { error, ...rest } = final;
    return this.write(id, lastSeq, events, { ...rest, errorCode: error?.code ?? null, errorMessage: error?.message ?? null });
  }

  async events(id: string, afterSeq: number): Promise<StoredEvent[]> {
    return (this.stored.get(id) ?? []).filter((e) => e.seq > afterSeq);
  }

  async get(id: string): Promise<OperationEntity | null> {
    const row = this.rows.get(id);
    return row ? { ...row } : null;
  }

  private write(id: string, lastSeq: number, events: NewEvent[], patch: Partial<OperationEntity>): boolean {
    this.writes++;
    if (this.failNextWrites > 0) {
      this.failNextWrites--;
      throw new Error('database unavailable');
    }
    const row = this.rows.get(id);
    if (!row || row.status !== 'running' || row.lastSeq !== lastSeq) return false;
    Object.assign(row, patch, { lastSeq: lastSeq + events.length });
    this.stored.get(id)!.push(...events.map((e, i) => ({ seq: lastSeq + i + 1, type: e.type, data: JSON.parse(JSON.stringify(e.data)) as unknown })));
    return true;
  }
}

/** OperationSignals' in-process half. */
export class FakeSignals {
  private readonly listeners = new Map<string, Set<() => void>>();
  announced = 0;

  async eventsStored(operationId: string): Promise<void> {
    this.announced++;
    this.emit(`events:${operationId}`);
  }

  on(kind: string, operationId: string, listener: () => void): () => void {
    const name = `${kind}:${operationId}`;
    const set = this.listeners.get(name) ?? new Set();
    set.add(listener);
    this.listeners.set(name, set);
    return () => set.delete(listener);
  }

  emit(name: string): void {
    for (const listener of this.listeners.get(name) ?? []) listener();
  }

  listenerCount(): number {
    return [...this.listeners.values()].reduce((sum, set) => sum + set.size, 0);
  }
}

/** Every message of a stream that completes. */
export const collect = (stream: Observable<MessageEvent>): Promise<MessageEvent[]> => firstValueFrom(stream.pipe(toArray()));
