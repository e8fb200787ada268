import type { MessageEvent } from '@nestjs/common';
import type { Socket } from 'node:net';
import { catchError, defer, type MonoTypeOperatorFunction, Observable, of, tap } from 'rxjs';
import { describeOrInternal } from '../common/error-response.js';
import type { OperationSignals } from './operation-signals.js';
import type { OperationStore, StoredEvent } from './operation-store.js';

/** Readers also look on their own this often: a lost notification costs at most this much. */
export const EVENTS_POLL_MS = 2000;
/** A comment this often keeps proxies from closing a quiet stream. */
export const KEEPALIVE_MS = 15_000;
/** Events handed to a subscriber between two waits for its connection (≤ 32 × a 4096-character line). */
export const EVENTS_PER_TURN = 32;
/** Events read per query: what a subscriber that stopped reading holds, and one turn's work for the database. */
export const EVENTS_PER_READ = 4 * EVENTS_PER_TURN;
/**
 * Characters of events that may wait in the process for one SSE subscriber (Nest's own queue) before
 * it is dropped, and resumes with Last-Event-ID. Paced reads keep a reader under it; it holds
 * EVENTS_PER_TURN events of any size, escaped.
 */
export const SSE_MAX_QUEUED_CHARS = 1024 * 1024;

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

/** Readers waiting for their turn, first come first served. */
const turns: Array<() => void> = [];

function grantNextTurn(): void {
  setImmediate(() => {
    turns.shift()?.();
    if (turns.length > 0) grantNextTurn();
  });
}

/**
 * Resolves in a turn of the event loop of its own: one reader's step (a page read, or
 * EVENTS_PER_TURN events handed on) per turn, whatever the number of readers, so that hundreds of
 * replays take their turns between other requests rather than running back to back.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    turns.push(resolve);
    if (turns.length === 1) grantNextTurn();
  });
}

/** Resolves once what was written to the socket is below its high-water mark, or it closed. */
export async function socketDrained(socket: Socket): Promise<void> {
  // Writes handed over in this turn (Nest's SSE and TCP writers) count first.
  await new Promise((resolve) => setImmediate(resolve));
  if (socket.destroyed || !socket.writableNeedDrain) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}

/**
 * `ready` for an SSE response: the socket drained, and the events handed on in this turn leave in
 * one write at its end rather than in a system call each (Node's HTTP corks one event at a time).
 */
export function sseReady(socket: Socket): ReadyToRead {
  return async () => {
    await socketDrained(socket);
    socket.cork();
    setImmediate(() => socket.uncork());
  };
}

/**
 * An operation's events after `afterSeq`: first what is stored, then each batch as its writer
 * announces it (any replica), reading the database one query at a time so that the order holds.
 * Every read and every EVENTS_PER_TURN events wait for a turn and for `ready`: a subscriber that
 * does not read holds one page, and the database keeps the rest. Completes after `done`.
 * Unsubscribing (the client left) touches nothing but this reader.
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
    let backedUp = false;
    const finish = (message: MessageEvent) => {
      subscriber.next(message);
      subscriber.complete();
    };
    /** @returns whether the subscriber is still there */
    const pace = async (): Promise<boolean> => {
      await nextTurn();
      backedUp = true;
      await ready().finally(() => (backedUp = false));
      return !subscriber.closed;
    };
    /**
     * Hands a page on, EVENTS_PER_TURN events per turn, the first in a turn of their own too: answers
     * to many readers' queries that arrive together (PostgreSQL) are not all handed on at once.
     * @returns false once it ended (`done`) or the subscriber left
     */
    const deliver = async (events: StoredEvent[]): Promise<boolean> => {
      for (const [index, event] of events.entries()) {
        if (index % EVENTS_PER_TURN === 0 && !(await pace())) return false;
        last = event.seq;
        if (event.type === 'done') {
          finish(toMessage(event));
          return false;
        }
        subscriber.next(toMessage(event));
      }
      return true;
    };
    const readAll = async (): Promise<void> => {
      for (;;) {
        if (!(await pace())) return;
        const events = await store.events(operationId, last, EVENTS_PER_READ);
        if (!(await deliver(events))) return;
        if (events.length > 0) continue;
        if (!checkRow) return;
        checkRow = false;
        const row = await store.get(operationId);
        if (!row || row.status === 'running') return;
        // It ended: its `done` was committed with the row, so one more read finds whatever is left.
        const rest = await store.events(operationId, last, 1);
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
    // A stream waiting for its client to drain is not quiet, and a comment would only queue up.
    const keepAlive = setInterval(() => backedUp || subscriber.next({ comment: 'keep-alive' }), keepAliveMs);
    void read();
    return () => {
      stop();
      clearInterval(poll);
      clearInterval(keepAlive);
    };
  });
}

/**
 * A failed stream's last word, for SSE: an `error` event `{ code, message }`, then the end. It carries
 * the id of the last event delivered (none yet: the client's own Last-Event-ID), never one of
 * Nest's automatic ids, so that a client resuming after it misses nothing and gets nothing twice.
 */
export function endWithErrorEvent(afterSeq: number, report: (error: unknown) => void): MonoTypeOperatorFunction<MessageEvent> {
  return (source) =>
    defer(() => {
      let lastId = String(afterSeq);
      return source.pipe(
        tap((message) => {
          if (message.id !== undefined) lastId = String(message.id);
        }),
        catchError((error: unknown) => {
          report(error);
          const { code, message } = describeOrInternal(error);
          return of<MessageEvent>({ id: lastId, type: 'error', data: { code, message } });
        }),
      );
    });
}
