import type { PooledConnection } from './pooled-connection.js';
import { ChannelRefusedError, ConnectionLostError, type SpareChannel } from './ssh-connector.js';

/** How long a connection's busiest moment sets how many spares it keeps, and how long after its last command it gets new ones. */
export const SPARE_WINDOW_MS = 10_000;
export const SPARE_REFUSAL_PAUSE_MS = 1000;

/**
 * The spare channels of one connection, pool side. A spare holds a channel slot from its open until
 * the server confirms its close — unless a command takes it, and the slot becomes the command's.
 */
export class ConnectionSpares {
  private readonly ready: SpareChannel[] = [];
  /** Opens sent, not answered yet. */
  opening = 0;
  /** Discarded, close not confirmed yet: the server still counts them. */
  closing = 0;
  /** When the server last refused a spare: none is opened for SPARE_REFUSAL_PAUSE_MS after (no refusal loop). */
  refusedAt = Number.NEGATIVE_INFINITY;
  private peak = 0;
  private peakAt = 0;

  /** Slots the spares hold. */
  get held(): number {
    return this.ready.length + this.opening + this.closing;
  }

  get readyCount(): number {
    return this.ready.length;
  }

  /** A live spare for a command; dead ones found on the way (state says closed) go to `dead`. */
  take(dead: (spare: SpareChannel) => void): SpareChannel | undefined {
    for (let spare = this.ready.pop(); spare; spare = this.ready.pop()) {
      if (spare.alive) return spare;
      dead(spare);
    }
    return undefined;
  }

  add(spare: SpareChannel): void {
    this.ready.push(spare);
  }

  /** Removes and returns every ready spare (retiring), or only the dead ones. */
  drain(onlyDead = false): SpareChannel[] {
    const out = this.ready.filter((s) => !onlyDead || !s.alive);
    this.ready.splice(0, this.ready.length, ...this.ready.filter((s) => !out.includes(s)));
    return out;
  }

  /** Records how many commands run now; the busiest moment of the last window is the demand. */
  noteInUse(inUse: number, now: number): void {
    if (inUse >= this.peak || now - this.peakAt > SPARE_WINDOW_MS) {
      this.peak = inUse;
      this.peakAt = now;
    }
  }

  /** Spares to keep besides `inUse` running commands: what the recent peak needs beyond them, at least one. */
  wanted(inUse: number, now: number): number {
    const peak = now - this.peakAt > SPARE_WINDOW_MS ? inUse : this.peak;
    return Math.max(1, peak - inUse);
  }
}

/** What spare keeping reports to the connection group, which owns the slot accounting. */
export interface SpareEvents {
  now(): number;
  /** The server accepted a spare: a session it counts, and one that a waiting command may take. */
  opened(connection: PooledConnection): void;
  /** The server refused one (MaxSessions, or a session not freed yet). */
  refused(connection: PooledConnection): void;
  /** A spare's slot is free: its open failed, or the server confirmed its close (`confirmed`). */
  freed(connection: PooledConnection, confirmed: boolean): void;
  /** The connection was gone when a spare was opened. */
  lost(connection: PooledConnection): void;
}

/** Opens spares on `connection` while it wants them (in the background: nothing waits for them). */
export function keepSpares(connection: PooledConnection, events: SpareEvents): void {
  const open = connection.connection.openSpare;
  if (!open) return;
  while (connection.wantsSpare(events.now())) openSpare(connection, open, events);
}

function openSpare(connection: PooledConnection, open: () => Promise<SpareChannel>, events: SpareEvents): void {
  connection.spares.opening++;
  open().then(
    (spare) => {
      connection.spares.opening--;
      connection.spares.add(spare);
      events.opened(connection);
      // A connection that retired meanwhile has no use for it.
      if (!connection.usable) closeSpares(connection, events);
    },
    (error: unknown) => {
      connection.spares.opening--;
      // Evict first: a freed slot on a connection still marked usable would be refilled at once.
      if (error instanceof ConnectionLostError) events.lost(connection);
      // Refused (or ssh2 out of channel ids): no spare for a while, so refusals cannot loop.
      else connection.spares.refusedAt = events.now();
      if (error instanceof ChannelRefusedError) events.refused(connection);
      events.freed(connection, false);
    },
  );
}

/** Closes a spare nobody will use; its slot frees when the server confirms. */
export function discardSpare(connection: PooledConnection, spare: SpareChannel, events: SpareEvents): void {
  connection.spares.closing++;
  spare.discard();
  void spare.closed.then(() => {
    connection.spares.closing--;
    events.freed(connection, true);
  });
}

/** Closes the connection's ready spares (retiring, shutdown), or only those the server already closed. */
export function closeSpares(connection: PooledConnection, events: SpareEvents, onlyDead = false): void {
  for (const spare of connection.spares.drain(onlyDead)) discardSpare(connection, spare, events);
}

/** What the group does for its spares: its slot accounting, kept private to it. */
export interface SpareHooks {
  now(): number;
  pump(): void;
  /** A confirmed close: the slot cools, then frees. */
  cool(connection: PooledConnection): void;
  refused(connection: PooledConnection): void;
  /** A retiring connection may close now. */
  settle(connection: PooledConnection): void;
  lost(connection: PooledConnection): void;
}

/** The spares of one connection group (SSH_SPARE_CHANNELS): opened, handed to commands, closed. */
export class GroupSpares {
  private readonly events: SpareEvents;

  constructor(
    private readonly enabled: boolean,
    hooks: SpareHooks,
  ) {
    this.events = {
      now: hooks.now,
      opened: (connection) => {
        connection.accepted(false, false);
        hooks.pump();
      },
      refused: hooks.refused,
      freed: (connection, confirmed) => {
        if (confirmed) hooks.cool(connection);
        hooks.settle(connection);
        hooks.pump();
      },
      lost: hooks.lost,
    };
  }

  /** Opens spares in the background where connections want them; never while requests wait. */
  keep(connections: PooledConnection[], waiting: number): void {
    if (!this.enabled || waiting > 0) return;
    for (const connection of connections) keepSpares(connection, this.events);
  }

  /** A live spare on a usable connection; dead ones found on the way are discarded. */
  take(connections: PooledConnection[]): { connection: PooledConnection; spare: SpareChannel } | undefined {
    for (const connection of connections) {
      if (!connection.usable) continue;
      const spare = connection.spares.take((dead) => discardSpare(connection, dead, this.events));
      if (spare) return { connection, spare };
    }
    return undefined;
  }

  /** Closes the connection's ready spares (retiring, shutdown), or only those the server already closed. */
  close(connection: PooledConnection, onlyDead = false): void {
    closeSpares(connection, this.events, onlyDead);
  }
}
