import type { ConnectionKey } from './connection-key.js';
import type { SshConnection } from './ssh-connector.js';
import type { ConnectionInfo, EvictionReason } from './ssh-pool.types.js';

/**
 * A refusal that follows a release this closely may be sshd not having freed the closed session
 * yet (it frees it on its next loop turn), so it does not teach us a lower MaxSessions.
 */
export const RELEASE_LAG_MS = 10;

let nextId = 1;

/** One authenticated connection and its channel accounting. Mutated only by its ConnectionGroup. */
export class PooledConnection {
  readonly id = nextId++;
  readonly serverIds = new Set<string>();
  /** Channel slots reserved (opening or open). */
  channelsInUse = 0;
  /** Channels confirmed open by the server and not yet closed. */
  channelsOpen = 0;
  commandsRun = 0;
  lastUsedAt: number;
  lastReleaseAt = 0;
  alive = true;
  retiring = false;
  evictedFor?: EvictionReason;

  constructor(
    readonly key: ConnectionKey,
    readonly connection: SshConnection,
    readonly createdAt: number,
    public channelLimit: number,
  ) {
    this.lastUsedAt = createdAt;
  }

  get usable(): boolean {
    return this.alive && !this.retiring;
  }

  get hasFreeChannel(): boolean {
    return this.usable && this.channelsInUse < this.channelLimit;
  }

  /**
   * Learns the server's real channel limit from a refusal of an open sent at `openSentAt`.
   * Returns true when the limit was lowered.
   */
  learnFromRefusal(openSentAt: number): boolean {
    const maybeLag = openSentAt - this.lastReleaseAt < RELEASE_LAG_MS;
    if (maybeLag || this.channelsOpen < 1 || this.channelsOpen >= this.channelLimit) return false;
    this.channelLimit = this.channelsOpen;
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
