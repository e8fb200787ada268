import { timeoutError } from './exec-runner.js';
import type { PooledConnection } from './pooled-connection.js';
import type { SpareChannel, SshConnection } from './ssh-connector.js';
import type { EvictionReason } from './ssh-pool.types.js';

/** What a group needs from the pool: I/O, time, limits, and where to report events. */
export interface GroupContext {
  now(): number;
  maxConnections: number;
  maxChannels: number;
  maxLifetimeMs: number;
  /** SSH_SPARE_CHANNELS: keep session channels open ahead of need where connections offer them. */
  spareChannels: boolean;
  /** How long the server may take to confirm a channel close before its connection is retired. */
  closeBoundMs: number;
  /** Opens a new authenticated connection for this key. @throws SshPoolError */
  connect(): Promise<SshConnection>;
  /** Throws when the key's host or credential is backing off. */
  admit(): void;
  evicted(connection: PooledConnection, reason: EvictionReason): void;
}

/** A reserved channel slot; `probe` when it is one above the connection's learned limit; `spare` when an open channel comes with it. */
export interface Slot {
  connection: PooledConnection;
  probe: boolean;
  spare?: SpareChannel;
}

/** A request queued for a slot. */
export interface Waiter {
  serverId?: string;
  grant(slot: Slot): void;
  fail(error: Error): void;
}

/** A queued request and its outcome: a granted slot, a failure, or EXEC_TIMEOUT when `abort` fires (then `cancel` dequeues it). */
export function queuedRequest(
  serverId: string | undefined,
  abort: AbortSignal,
  cancel: (waiter: Waiter) => void,
): { waiter: Waiter; granted: Promise<Slot & { hit: boolean }> } {
  let waiter!: Waiter;
  const granted = new Promise<Slot & { hit: boolean }>((resolve, reject) => {
    const onAbort = () => {
      cancel(waiter);
      reject(timeoutError(abort));
    };
    waiter = {
      serverId,
      grant: (slot) => {
        abort.removeEventListener('abort', onAbort);
        resolve({ ...slot, hit: false });
      },
      fail: (error) => {
        abort.removeEventListener('abort', onAbort);
        reject(error);
      },
    };
    abort.addEventListener('abort', onAbort, { once: true });
  });
  return { waiter, granted };
}
