import { resolve } from 'node:path';
import { type Cidr, parseCidrList } from './cidr-list.js';
import { EnvironmentVariables, validateEnvironment } from './environment.js';

/** The typed configuration every module reads through `ConfigService<AppConfig, true>`. */
export interface AppConfig {
  http: { port: number; host: string; internalTcpPort: number; healthPort: number };
  edge: EdgeConfig;
  database: { url: string };
  /** Where generated secrets (api-token, credentials.key) live when the environment supplies none. */
  storage: { dataDir: string };
  security: { apiTokens: string[] | null; credentialsKey: string | null };
  log: { level: EnvironmentVariables['LOG_LEVEL'] };
  pool: PoolConfig;
  ssh: SshConfig;
  status: StatusConfig;
  servers: ServersConfig;
  operations: OperationsConfig;
  idempotency: IdempotencyConfig;
}

/** Bounds on what one client can hold open on the listeners (src/edge/). */
export interface EdgeConfig {
  httpMaxConnections: number;
  tcpMaxConnections: number;
  idleTimeoutMs: number;
  maxInFlight: number;
}

export interface PoolConfig {
  enabled: boolean;
  idleTimeoutMs: number;
  maxLifetimeMs: number;
  cleanupIntervalMs: number;
  maxConnectionsPerKey: number;
  maxChannelsPerConnection: number;
  shutdownGraceMs: number;
  /** Keep pre-opened session channels, so that a command costs one round trip. */
  spareChannels: boolean;
}

export interface SshConfig {
  readyTimeoutMs: number;
  execTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  maxOutputBytes: number;
  hostKeyPolicy: EnvironmentVariables['HOST_KEY_POLICY'];
  /** Absolute; the only directory `sshKeyPath` may point into (after resolving links). */
  keyDir: string;
  /** Encrypted keys whose bcrypt KDF asks for more rounds are refused (the cost is the key author's choice). */
  maxKdfRounds: number;
  /** Addresses a server's host may resolve to: `allow` null means any; `deny` wins over `allow`. */
  targets: { allow: Cidr[] | null; deny: Cidr[] };
}

export interface StatusConfig {
  /** How long a host's probe result may be served again; 0 = never. */
  cacheMs: number;
  /** Hosts probed at the same time. */
  probeConcurrency: number;
  /** Bounds one host's probe: queueing, connecting and running. */
  probeTimeoutMs: number;
}

export interface ServersConfig {
  /**
   * How long a server's SSH target (row read, secrets decrypted, key file read) is reused for exec;
   * changes drop it at once on every replica (LISTEN/NOTIFY on PostgreSQL); 0 = never cached.
   */
  targetCacheTtlMs: number;
}

export interface OperationsConfig {
  timeoutMs: number;
  /** How long a replica's claim on its running operations lasts unless renewed (renewed every third of it). */
  leaseMs: number;
  cancelGraceMs: number;
}

export interface IdempotencyConfig {
  ttlMs: number;
  /** A replica that stopped renewing its requests in progress for this long is gone (OPERATION_LEASE_MS). */
  leaseMs: number;
  /** Period of the pruning of expired keys (POOL_CLEANUP_INTERVAL_S). */
  cleanupIntervalMs: number;
  /**
   * Largest stored answer: an exec answer's two streams of SSH_MAX_OUTPUT_BYTES each, every byte at
   * worst a 6-byte JSON escape, plus room for the other fields and error bodies.
   */
  maxAnswerBytes: number;
}

export function toAppConfig(env: EnvironmentVariables): AppConfig {
  const tokens = env.API_TOKENS?.split(',').map((t) => t.trim()).filter(Boolean) ?? [];
  return {
    http: { port: env.PORT, host: env.HOST, internalTcpPort: env.INTERNAL_TCP_PORT, healthPort: env.HEALTH_PORT },
    edge: {
      httpMaxConnections: env.HTTP_MAX_CONNECTIONS,
      tcpMaxConnections: env.INTERNAL_TCP_MAX_CONNECTIONS,
      idleTimeoutMs: env.CONNECTION_IDLE_TIMEOUT_MS,
      maxInFlight: env.CONNECTION_MAX_IN_FLIGHT,
    },
    database: { url: env.DATABASE_URL },
    storage: { dataDir: env.DATA_DIR },
    security: { apiTokens: tokens.length > 0 ? tokens : null, credentialsKey: env.CREDENTIALS_KEY ?? null },
    log: { level: env.LOG_LEVEL },
    pool: {
      enabled: env.SSH_POOL_ENABLED,
      idleTimeoutMs: env.POOL_IDLE_TIMEOUT_S * 1000,
      maxLifetimeMs: env.POOL_MAX_LIFETIME_S * 1000,
      cleanupIntervalMs: env.POOL_CLEANUP_INTERVAL_S * 1000,
      maxConnectionsPerKey: env.POOL_MAX_CONNECTIONS_PER_KEY,
      maxChannelsPerConnection: env.POOL_MAX_CHANNELS_PER_CONNECTION,
      shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
      spareChannels: env.SSH_SPARE_CHANNELS,
    },
    ssh: {
      readyTimeoutMs: env.SSH_READY_TIMEOUT_MS,
      execTimeoutMs: env.SSH_EXEC_TIMEOUT_MS,
      keepaliveIntervalMs: env.SSH_KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: env.SSH_KEEPALIVE_COUNT_MAX,
      maxOutputBytes: env.SSH_MAX_OUTPUT_BYTES,
      hostKeyPolicy: env.HOST_KEY_POLICY,
      keyDir: resolve(env.SSH_KEY_DIR ?? resolve(env.DATA_DIR, 'keys')),
      maxKdfRounds: env.SSH_KEY_MAX_KDF_ROUNDS,
      // Both lists passed validation, so parsing cannot fail here.
      targets: { allow: env.SSH_TARGET_ALLOW ? parseCidrList(env.SSH_TARGET_ALLOW) : null, deny: parseCidrList(env.SSH_TARGET_DENY) ?? [] },
    },
    status: {
      cacheMs: env.STATUS_CACHE_MS,
      probeConcurrency: env.STATUS_PROBE_CONCURRENCY,
      probeTimeoutMs: env.STATUS_PROBE_TIMEOUT_MS,
    },
    servers: { targetCacheTtlMs: env.SERVER_CACHE_TTL_MS },
    operations: { timeoutMs: env.OPERATION_TIMEOUT_S * 1000, leaseMs: env.OPERATION_LEASE_MS, cancelGraceMs: env.OPERATION_CANCEL_GRACE_MS },
    idempotency: {
      ttlMs: env.IDEMPOTENCY_TTL_S * 1000,
      leaseMs: env.OPERATION_LEASE_MS,
      cleanupIntervalMs: env.POOL_CLEANUP_INTERVAL_S * 1000,
      maxAnswerBytes: 2 * 6 * env.SSH_MAX_OUTPUT_BYTES + 64 * 1024,
    },
  };
}

/**
 * `ConfigModule.forRoot({ validate })`: checks the raw environment and returns the typed tree. Every
 * value sits in a nested object so that @nestjs/config copies none of them back into process.env.
 */
export function validateConfig(raw: Record<string, unknown>): AppConfig & Record<string, unknown> {
  return { ...toAppConfig(validateEnvironment(raw)) };
}
