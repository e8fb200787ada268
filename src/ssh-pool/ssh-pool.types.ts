/** How a server authenticates. Secrets stay in memory; the pool only keeps a keyed hash of them. */
export type SshAuth =
  | { type: 'PASSWORD'; password: string }
  | { type: 'KEY_FILE'; privateKey: string | Buffer; passphrase?: string };

/** Where and as whom to run a command: one CS2 server's SSH coordinates. */
export interface SshTarget {
  /** The server record this target belongs to; used for per-server management and statistics. */
  serverId?: string;
  host: string;
  port: number;
  username: string;
  auth: SshAuth;
  /** OpenSSH `SHA256:…` fingerprint pinned for this server; checked before any stored key. */
  hostKeyFingerprint?: string;
}

export interface ExecOptions {
  /** Per-command timeout covering queueing and execution; defaults to SSH_EXEC_TIMEOUT_MS. */
  timeoutMs?: number;
}

export interface StreamOptions {
  /** Covers queueing and running; the remote process group is stopped at the end. */
  timeoutMs: number;
  /** Receives stdout and stderr chunks as they arrive. */
  sink: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  /** The caller's stop (e.g. a cancel): its reason is what the call rejects with. */
  signal?: AbortSignal;
  /** After SIGTERM, how long the remote process group has before SIGKILL. */
  termGraceMs: number;
}

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  truncated: boolean;
}

/** `stuck`: the server never confirmed closing one of its channels. */
export type EvictionReason = 'idle' | 'lifetime' | 'dead' | 'removed' | 'closed' | 'shutdown' | 'stuck';

/** The seed's statistics (snake_case, kept for existing dashboards) plus the pool's own counters. */
export interface PoolStats {
  total_connections: number;
  alive_connections: number;
  in_use_connections: number;
  idle_connections: number;
  idle_timeout: number;
  max_lifetime: number;
  enabled: boolean;
  keys: number;
  channels_in_use: number;
  waiters: number;
  connecting: number;
  hits: number;
  misses: number;
  connects: number;
  connect_failures: number;
  channel_open_refusals: number;
  commands: number;
  /** Spare channels open and idle now (SSH_SPARE_CHANNELS). */
  spare_channels: number;
  /** Commands that ran on a spare channel: one round trip instead of two. */
  spare_hits: number;
  evictions: Record<EvictionReason, number>;
}

/** One pooled connection, as `GET /api/server-status/pool/connections` shows it. */
export interface ConnectionInfo {
  id: number;
  key: string;
  host: string;
  port: number;
  username: string;
  authType: SshAuth['type'];
  alive: boolean;
  retiring: boolean;
  createdAt: string;
  lastUsedAt: string;
  ageSeconds: number;
  idleSeconds: number;
  channelsInUse: number;
  channelLimit: number;
  commandsRun: number;
  serverIds: string[];
}

/** A target's key (display form), its connections, and whether its host is backing off. */
export interface TargetConnections {
  key: string;
  hostDown: boolean;
  connections: ConnectionInfo[];
}

/** What a close took out of service: `closed` connections, of which `retiring` still run commands. */
export interface ClosedConnections {
  closed: number;
  retiring: number;
}
