import { Logger } from '@nestjs/common';
import pg from 'pg';

/** Shown in pg_stat_activity, so that operators (and tests) can tell the listener's session apart. */
export const LISTENER_APPLICATION_NAME = 'cs2-ssh-pool-listener';

export interface PgNotifyListenerOptions {
  url: string;
  /** A plain identifier: it is quoted, never interpolated from input. */
  channel: string;
  onNotification(payload: string): void;
  /** After every (re)connect once LISTEN is in place: notifications sent while it was down are lost. */
  onListening(): void;
  /** First delay before reconnecting; doubles per failed attempt up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

/**
 * A dedicated PostgreSQL session that LISTENs on one channel (a pooled TypeORM connection cannot: it
 * is handed to other queries). When the session drops it reconnects with backoff; the caller's
 * fallback meanwhile is its own TTL.
 */
export class PgNotifyListener {
  private readonly logger = new Logger(PgNotifyListener.name);
  private client: pg.Client | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private delayMs: number;
  private stopped = false;

  constructor(private readonly options: PgNotifyListenerOptions) {
    this.delayMs = options.retryMs ?? 1000;
  }

  get listening(): boolean {
    return this.client !== null;
  }

  /** Connects once; a failure is logged and retried in the background, never thrown. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    this.retryTimer = null;
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.options.url, application_name: LISTENER_APPLICATION_NAME, keepAlive: true, connectionTimeoutMillis: 10_000 });
    // Registered before connecting: an error event without a listener would crash the process.
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => this.options.onNotification(message.payload ?? ''));
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(this.options.channel)}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.stopped) return void client.end().catch(() => undefined);
    this.client = client;
    this.delayMs = this.options.retryMs ?? 1000;
    this.logger.log(`Listening on PostgreSQL channel ${this.options.channel}`);
    this.options.onListening();
  }

  private lost(client: pg.Client, error?: unknown): void {
    const wasListening = this.client === client;
    if (wasListening) this.client = null;
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (this.stopped || this.retryTimer) return;
    const reason = error instanceof Error ? error.message : 'connection ended';
    this.logger.warn(`${wasListening ? 'Lost' : 'Could not open'} the PostgreSQL listener (${reason}); retrying in ${this.delayMs} ms, caches fall back to their TTL meanwhile`);
    this.retryTimer = setTimeout(() => void this.connect(), this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, this.options.maxRetryMs ?? 30_000);
  }
}
