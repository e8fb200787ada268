import type { ConnectionKey } from './connection-key.js';
import { ConnectionSpares, SPARE_REFUSAL_PAUSE_MS, SPARE_WINDOW_MS } from './spare-channels.js';
import type { SshConnection } from './ssh-connector.js';
import type { ConnectionInfo, EvictionReason } from './ssh-pool.types.js';

/**
 * A refusal of an open sent less than this after one of the connection's channels closed (or while
 * one was closing) says nothing about the limit: sshd frees a closed session on a later loop turn,
 * and on a busy host that lag exceeds 10 ms. Measured: 100 ms keeps the learned limit true.
 */
export const RELEASE_LAG_MS = 100;
/** Refusal-free opens at a lowered limit before one more slot is tried; doubles after a failed try. */
export const PROBE_AFTER_OPENS = 8;
const MAX_PROBE_AFTER_OPENS = 64;

let nextId = 1;

/** One authenticated connection and its channel accounting. Mutated only by its ConnectionGroup. */
export class PooledConnection {
  readonly id = nextId++;
  readonly serverIds = new Set<string>();
  /** Channel slots reserved for commands (opening or open). */
  channelsInUse = 0;
  /** Session channels opened ahead of need; they hold slots too (`spares.held`). */
  readonly spares = new ConnectionSpares();
  /** Slots whose channel closed a moment ago, not handed out yet: sshd frees the session a loop turn later. */
  cooling = 0;
  /** Channels the server accepted and has not confirmed closed: the sessions it counts. */
  channelsOpen = 0;
  /** Channels we closed whose close the server never confirmed (they hold slots for good). */
  channelsStuck = 0;
  commandsRun = 0;
  lastUsedAt: number;
  lastReleaseAt = 0;
  alive = true;
  retiring = false;
  evictedFor?: EvictionReason;
  /** Opens accepted at the limit since it last changed; enough of them and one more slot is tried. */
  private opensAtLimit = 0;
  private probeAfter = PROBE_AFTER_OPENS;
  /** The limit before the slot being tried, while its open is in flight. */
  private probingFrom?: number;

  constructor(
    readonly key: ConnectionKey,
    readonly connection: SshConnection,
    readonly createdAt: number,
    public channelLimit: number,
    private readonly maxChannels: number,
  ) {
    this.lastUsedAt = createdAt;
    this.lastReleaseAt = connection.releasedAt ?? 0;
  }

  get usable(): boolean {
    return this.alive && !this.retiring;
  }

  get hasFreeChannel(): boolean {
    return this.usable && this.slotsTaken < this.channelLimit;
  }

  /** Slots counted against the limit: commands, cooling closes, spares. */
  private get slotsTaken(): number {
    return this.channelsInUse + this.cooling + this.spares.held;
  }

  /**
   * Whether to open one more spare: recently used, fewer spares than its recent peak asks for, and
   * room for the spare and a command besides it, so that a spare never takes the last slot.
   */
  wantsSpare(now: number): boolean {
    if (!this.usable || this.probingFrom !== undefined || now - this.lastUsedAt >= SPARE_WINDOW_MS) return false;
    if (now - this.spares.refusedAt < SPARE_REFUSAL_PAUSE_MS) return false;
    const kept = this.spares.opening + this.spares.readyCount;
    return kept < this.spares.wanted(this.channelsInUse, now) && this.slotsTaken + 2 <= this.channelLimit;
  }

  /** Every slot is taken, but the limit is below the configured one and has held long enough to try one more. */
  get canProbe(): boolean {
    const full = this.channelsInUse + this.spares.held >= this.channelLimit && this.cooling === 0;
    return full && this.usable && this.probingFrom === undefined && this.channelLimit < this.maxChannels && this.opensAtLimit >= this.probeAfter;
  }

  /** Raises the limit by one for the open about to be sent; `accepted`/`learnFromRefusal` settle it. */
  startProbe(): void {
    this.probingFrom = this.channelLimit;
    this.channelLimit++;
  }

  /**
   * The server accepted an open (a command's, or a spare's: `command` false). Returns true when it confirmed a
   * probed slot: sessions up to the raised limit are open at once, so the server allows that many.
   */
  accepted(probe: boolean, command = true): boolean {
    this.channelsOpen++;
    if (command) this.commandsRun++;
    if (probe) {
      const confirmed = this.channelsOpen >= this.channelLimit;
      if (!confirmed) this.channelLimit = Math.min(this.channelLimit, this.probingFrom ?? this.channelLimit);
      this.probingFrom = undefined;
      this.opensAtLimit = 0;
      if (confirmed) this.probeAfter = PROBE_AFTER_OPENS;
      return confirmed;
    }
    if (this.channelsOpen >= this.channelLimit) this.opensAtLimit++;
    return false;
  }

  /** The server confirmed a channel's close; its slot cools until the group hands it out again. */
  closed(now: number, wasStuck: boolean): void {
    this.channelsOpen--;
    if (wasStuck) this.channelsStuck--;
    this.lastReleaseAt = now;
    this.cooling++;
  }

  /**
   * Learns the server's channel limit from the refusal of an open sent at `openSentAt`. The sessions
   * the server counted are the opens sent before it that it accepted and has not closed: replies
   * arrive in order, so that is channelsOpen now. Returns true when the limit was lowered.
   */
  learnFromRefusal(openSentAt: number, probe: boolean): boolean {
    if (probe) {
      // The tried slot does not exist (or sshd was still freeing one): back to the known limit, try later.
      this.channelLimit = Math.min(this.channelLimit, this.probingFrom ?? this.channelLimit);
      this.probingFrom = undefined;
      this.opensAtLimit = 0;
      this.probeAfter = Math.min(this.probeAfter * 2, MAX_PROBE_AFTER_OPENS);
      return false;
    }
    const maybeLag = this.lastReleaseAt > openSentAt - RELEASE_LAG_MS;
    if (maybeLag || this.channelsOpen < 1 || this.channelsOpen >= this.channelLimit) return false;
    this.channelLimit = this.channelsOpen;
    this.opensAtLimit = 0;
    return true;
  }

  info(now: number): ConnectionInfo {
    return {
      id: this.id,
      key: this.key.display,
      host: this.key.host,
      port: this.key.port,
      username: this.key.username,
      authType: this.key.authType,
      alive: this.alive,
      retiring: this.retiring,
      createdAt: new Date(this.createdAt).toISOString(),
      lastUsedAt: new Date(this.lastUsedAt).toISOString(),
      ageSeconds: Math.floor((now - this.createdAt) / 1000),
      idleSeconds: this.channelsInUse > 0 ? 0 : Math.floor((now - this.lastUsedAt) / 1000),
      channelsInUse: this.channelsInUse,
      channelLimit: this.channelLimit,
      commandsRun: this.commandsRun,
      serverIds: [...this.serverIds].sort(),
    };
  }
}
