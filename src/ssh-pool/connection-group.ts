import { queuedRequest, type GroupContext, type Slot, type Waiter } from './connection-group.types.js';
import type { ConnectionKey } from './connection-key.js';
import { timeoutError } from './exec-runner.js';
import { PooledConnection } from './pooled-connection.js';
import { GroupSpares, SPARE_REFUSAL_PAUSE_MS } from './spare-channels.js';
import { SshPoolError } from './ssh-pool.errors.js';
import type { EvictionReason } from './ssh-pool.types.js';

export type { GroupContext, Slot } from './connection-group.types.js';


/** sshd frees a closed session on its next loop turn: reopening the slot at once is refused ~75 % of the time. */
export const REOPEN_DELAY_MS = 2;

/**
 * All connections of one ConnectionKey and the FIFO queue of requests waiting for a channel.
 * Slots are reserved synchronously, so the event loop is the lock: no await between check and take.
 */
export class ConnectionGroup {
  readonly connections: PooledConnection[] = [];
  private readonly waiters: Waiter[] = [];
  private connecting = 0;
  /** The reconnect in flight: concurrent ones share it, so a storm of them cannot pass the per-key cap. */
  private reconnecting?: Promise<PooledConnection>;
  /** The channel limit learned from this key's refusals and confirmed tries; new connections start there. */
  private learnedLimit: number;
  /** Spare channels' slots are accounted like commands' but never make a connection look busy. */
  private readonly spares: GroupSpares;

  constructor(
    readonly key: ConnectionKey,
    private readonly ctx: GroupContext,
  ) {
    this.learnedLimit = ctx.maxChannels;
    this.spares = new GroupSpares(ctx.spareChannels, {
      now: () => this.ctx.now(),
      pump: () => this.pump(),
      cool: (connection) => this.cool(connection, false),
      // A refused spare teaches commands nothing (their own refusals do); spares pause, then try again.
      refused: () => setTimeout(() => this.pump(), SPARE_REFUSAL_PAUSE_MS).unref(),
      settle: (connection) => this.dropIfDone(connection),
      lost: (connection) => this.evict(connection, 'dead'),
    });
  }

  get waiting(): number {
    return this.waiters.length;
  }

  get closeBoundMs(): number {
    return this.ctx.closeBoundMs;
  }

  get connectsInProgress(): number {
    return this.connecting;
  }

  get isEmpty(): boolean {
    return this.connections.length === 0 && this.waiters.length === 0 && this.connecting === 0;
  }

  /**
   * Reserves a channel slot, waiting in FIFO order (retries go to the front) until one frees up, a
   * connection is made, or `abort` fires. Returns whether it was an immediate hit, and the slot.
   */
  acquire(serverId: string | undefined, abort: AbortSignal, retry = false, spare = true): Promise<Slot & { hit: boolean }> {
    if (abort.aborted) return Promise.reject(timeoutError(abort));
    const free = this.waiters.length === 0 || retry ? this.takeFree(serverId, spare) : undefined;
    if (free) {
      this.spares.keep(this.connections, this.waiters.length);
      return Promise.resolve({ ...free, hit: true });
    }
    const { waiter, granted } = queuedRequest(serverId, abort, (w) => this.removeWaiter(w));
    if (retry) this.waiters.unshift(waiter);
    else this.waiters.push(waiter);
    this.pump();
    return granted;
  }

  /** The server accepted the slot's command; on a bare session (a spare's or a fresh one) the session already counted. */
  opened(slot: Slot): void {
    if (slot.spare || slot.connection.connection.openSpare) slot.connection.commandsRun++;
    else this.sessionOpened(slot, true);
  }

  /** The server confirmed a session channel for the slot. */
  sessionOpened(slot: Slot, command = false): void {
    if (slot.connection.accepted(slot.probe, command)) this.learnedLimit = Math.max(this.learnedLimit, slot.connection.channelLimit);
  }

  /** The server confirmed the channel's close: the slot is free, and handed out REOPEN_DELAY_MS later. */
  channelClosed(connection: PooledConnection, wasStuck: boolean): void {
    this.cool(connection, wasStuck);
    this.release(connection);
  }

  private cool(connection: PooledConnection, wasStuck: boolean): void {
    connection.closed(this.ctx.now(), wasStuck);
    setTimeout(() => {
      connection.cooling--;
      this.pump();
    }, REOPEN_DELAY_MS);
  }

  /** A channel we closed was not confirmed within the bound: its slot is lost, the connection retires. */
  channelStuck(connection: PooledConnection): void {
    connection.channelsStuck++;
    this.markRetiring(connection, 'stuck');
    this.dropIfDone(connection);
  }

  /** A reserved slot is free again (its open failed, or its channel closed). */
  release(connection: PooledConnection): void {
    connection.channelsInUse--;
    connection.lastUsedAt = this.ctx.now();
    this.dropIfDone(connection);
    this.pump();
  }

  /** The server refused a slot's channel; lowers the limit when the refusal teaches it. */
  refused(slot: Slot, openSentAt: number): void {
    if (slot.connection.learnFromRefusal(openSentAt, slot.probe)) {
      this.learnedLimit = Math.min(this.learnedLimit, slot.connection.channelLimit);
    }
  }

  /** Take no new channels; close once the running ones end. */
  retire(connection: PooledConnection, reason: EvictionReason): void {
    this.markRetiring(connection, reason);
    this.pump();
  }

  /** Drop and close a connection now (it died, or it is idle and retiring). */
  evict(connection: PooledConnection, reason: EvictionReason): void {
    this.drop(connection, reason);
    this.pump();
  }

  /** Rejects every queued request (shutdown, or the only connect attempt failed). */
  failWaiters(error: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.fail(error);
  }

  /** Retire what is past its lifetime or idle too long; returns how many connections closed. */
  cleanup(now: number, idleTimeoutMs: number): number {
    const before = [...this.connections];
    for (const connection of before) {
      this.spares.close(connection, true);
      if (now - connection.createdAt >= this.ctx.maxLifetimeMs) this.markRetiring(connection, 'lifetime');
      else if (connection.channelsInUse === 0 && now - connection.lastUsedAt >= idleTimeoutMs) this.markRetiring(connection, 'idle');
    }
    this.retireSurplus();
    this.pump();
    return before.filter((connection) => !connection.alive).length;
  }

  /** Usable connections beyond the per-key cap retire, the least busy (then the oldest) first. */
  private retireSurplus(): void {
    const usable = this.connections.filter((c) => c.usable).sort((a, b) => a.channelsInUse - b.channelsInUse || a.createdAt - b.createdAt);
    for (const connection of usable.slice(0, Math.max(0, usable.length - this.ctx.maxConnections))) this.markRetiring(connection, 'removed');
  }

  private takeFree(serverId: string | undefined, spare = true): Slot | undefined {
    const now = this.ctx.now();
    let best: PooledConnection | undefined;
    for (const connection of [...this.connections]) {
      if (connection.usable && now - connection.createdAt >= this.ctx.maxLifetimeMs) this.markRetiring(connection, 'lifetime');
      if (connection.hasFreeChannel && (!best || connection.channelsInUse < best.channelsInUse)) best = connection;
    }
    // A ready spare's slot becomes the command's: one round trip instead of two.
    const spared = spare ? this.spares.take(this.connections) : undefined;
    if (spared) {
      this.reserve(spared.connection, serverId, now);
      return { ...spared, probe: false };
    }
    // Every slot taken: try one above a lowered limit before waiting (the limit may be sshd's lag, not MaxSessions).
    const probe = !best ? this.connections.find((c) => c.canProbe) : undefined;
    probe?.startProbe();
    const connection = best ?? probe;
    if (!connection) return undefined;
    this.reserve(connection, serverId, now);
    return { connection, probe: connection === probe };
  }

  private reserve(connection: PooledConnection, serverId: string | undefined, now: number): void {
    connection.channelsInUse++;
    connection.lastUsedAt = now;
    connection.spares.noteInUse(connection.channelsInUse, now);
    if (serverId) connection.serverIds.add(serverId);
  }

  private pump(): void {
    while (this.waiters.length > 0) {
      const slot = this.takeFree(this.waiters[0].serverId);
      if (!slot) break;
      this.waiters.shift()!.grant(slot);
    }
    if (this.waiters.length > 0 && this.shouldConnect()) this.connectForWaiters();
    this.spares.keep(this.connections, this.waiters.length);
  }

  /** One handshake per key until a connection proves the host and credentials; then scale out. */
  private shouldConnect(): boolean {
    const usable = this.connections.filter((c) => c.usable).length;
    if (usable + this.connecting >= this.ctx.maxConnections) return false;
    if (this.connecting > 0 && usable === 0) return false;
    return this.waiters.length > this.connecting * this.learnedLimit;
  }

  /**
   * A fresh connection that replaces the key's others (they retire after their running commands; on
   * failure they stay in service). Calls made while one is in flight share its connection.
   */
  reconnect(): Promise<PooledConnection> {
    this.reconnecting ??= this.replaceAll().finally(() => (this.reconnecting = undefined));
    return this.reconnecting;
  }

  private async replaceAll(): Promise<PooledConnection> {
    const stale = [...this.connections];
    const fresh = await this.connectNow();
    for (const connection of stale) this.retire(connection, 'removed');
    return fresh;
  }

  /** Opens one more connection now (manual reconnect), outside the queue's scaling rules. */
  connectNow(): Promise<PooledConnection> {
    this.ctx.admit();
    return this.startConnect();
  }

  private connectForWaiters(): void {
    try {
      this.ctx.admit();
    } catch (error) {
      if (!this.connections.some((c) => c.usable) && this.connecting === 0) this.failWaiters(error as Error);
      return;
    }
    // Failures reach the waiters inside startConnect; nobody else awaits this attempt.
    this.startConnect().catch(() => undefined);
  }

  private startConnect(): Promise<PooledConnection> {
    this.connecting++;
    return this.ctx.connect().then(
      (ssh) => {
        this.connecting--;
        const connection = new PooledConnection(this.key, ssh, this.ctx.now(), this.learnedLimit, this.ctx.maxChannels);
        this.connections.push(connection);
        ssh.onClose(() => this.evict(connection, 'dead'));
        this.pump();
        return connection;
      },
      (error: SshPoolError) => {
        this.connecting--;
        if (!this.connections.some((c) => c.usable) && this.connecting === 0) this.failWaiters(error);
        else this.pump();
        throw error;
      },
    );
  }

  /** Flags only; never pumps, so it is safe inside takeFree. */
  private markRetiring(connection: PooledConnection, reason: EvictionReason): void {
    if (!connection.alive || connection.retiring) return;
    connection.retiring = true;
    connection.evictedFor = reason;
    this.spares.close(connection);
    this.dropIfDone(connection);
  }

  /** A retiring connection closes once only stuck channels (which never free) hold slots. */
  private dropIfDone(connection: PooledConnection): void {
    if (connection.retiring && connection.channelsInUse <= connection.channelsStuck) this.drop(connection, connection.evictedFor ?? 'lifetime');
  }

  private drop(connection: PooledConnection, reason: EvictionReason): void {
    if (!connection.alive) return;
    connection.alive = false;
    connection.evictedFor = reason;
    this.connections.splice(this.connections.indexOf(connection), 1);
    // Spares get their CLOSE ahead of the disconnect.
    this.spares.close(connection);
    connection.connection.close();
    this.ctx.evicted(connection, reason);
  }

  private removeWaiter(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
  }
}
