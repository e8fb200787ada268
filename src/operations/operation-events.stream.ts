import type { MessageEvent } from '@nestjs/common';
import { Observable } from 'rxjs';
import type { OperationSignals } from './operation-signals.js';
import type { OperationStore, StoredEvent } from './operation-store.js';

/** Readers also look on their own this often: a lost notification costs at most this much. */
export const EVENTS_POLL_MS = 2000;
/** A comment this often keeps proxies from closing a quiet stream. */
export const KEEPALIVE_MS = 15_000;

const toMessage = (event: StoredEvent): MessageEvent => ({ id: String(event.seq), type: event.type, data: event.data as object });

/** Resolves when the subscriber can take more (its connection drained what it was given); awaited before each read. */
export type ReadyToRead = () => Promise<void>;
const alwaysReady: ReadyToRead = () => Promise.resolve();

export interface EventStreamOptions {
  /** Paces the reads, so that a slow reader of a long backlog holds one page in memory, not all of it. */
  ready?: ReadyToRead;
  pollMs?: number;
  keepAliveMs?: number;
}

/**
 * An operation's events after `afterSeq`: first what is stored, then each batch as its writer
 * announces it (any replica), reading the database one query at a time so that the order holds.
 * Completes after `done`. Unsubscribing (the client left) touches nothing but this reader.
 */
export function operationEvents(
  store: Pick<OperationStore, 'events' | 'get'>,
  signals: Pick<OperationSignals, 'on'>,
  operationId: string,
  afterSeq: number,
  { ready = alwaysReady, pollMs = EVENTS_POLL_MS, keepAliveMs = KEEPALIVE_MS }: EventStreamOptions = {},
): Observable<MessageEvent> {
  return new Observable<MessageEvent>((subscriber) => {
    let last = afterSeq;
    let reading = false;
    let again = false;
    let checkRow = true;
    const finish = (message: MessageEvent) => {
      subscriber.next(message);
      subscriber.complete();
    };
    const readAll = async (): Promise<void> => {
      for (;;) {
        await ready();
        if (subscriber.closed) return;
        const events = await store.events(operationId, last);
        for (const event of events) {
          last = event.seq;
          if (event.type === 'done') return finish(toMessage(event));
          subscriber.next(toMessage(event));
        }
        if (events.length > 0) continue;
        if (!checkRow) return;
        checkRow = false;
        const row = await store.get(operationId);
        if (!row || row.status === 'running') return;
        // It ended: its `done` was committed with the row, so one more read finds whatever is left.
        const rest = await store.events(operationId, last);
        if (rest.length > 0) {
          checkRow = true;
          continue;
        }
        // Nothing after what the client has: it saw the end already, or the events were pruned.
        if (row.lastSeq <= last) return subscriber.complete();
        return finish({ id: String(row.lastSeq), type: 'done', data: { status: row.status, exitCode: row.exitCode } });
      }
    };
    const read = async (): Promise<void> => {
      if (reading) return void (again = true);
      reading = true;
      try {
        do {
          again = false;
          await readAll();
        } while (again && !subscriber.closed);
      } catch (error) {
        subscriber.error(error);
      } finally {
        reading = false;
      }
    };
    const stop = signals.on('events', operationId, () => void read());
    const poll = setInterval(() => {
      checkRow = true;
      void read();
    }, pollMs);
    const keepAlive = setInterval(() => subscriber.next({ comment: 'keep-alive' }), keepAliveMs);
    void read();
    return () => {
      stop();
      clearInterval(poll);
      clearInterval(keepAlive);
    };
  });
}
