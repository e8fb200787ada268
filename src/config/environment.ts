import { plainToInstance, Transform } from 'class-transformer';
import { isCidrList } from './cidr-list.js';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateBy,
  validateSync,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

export const HOST_KEY_POLICIES = ['accept-new', 'strict', 'off'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'verbose'] as const;

const IsCidrList = () =>
  ValidateBy({ name: 'isCidrList', validator: { validate: isCidrList, defaultMessage: () => '$property must be a comma-separated list of CIDRs (10.0.0.0/8, fd00::/8)' } });

/** The service's environment, as strings arrive from the process; `validateEnvironment` checks it. */
export class EnvironmentVariables {
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT = 3000;
  @IsOptional() @IsString() HOST = '0.0.0.0';
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535) INTERNAL_TCP_PORT = 3001;
  /** `/health/*` and `/metrics` on a listener of their own, so that probes answer while PORT is full; 0 = off. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535) HEALTH_PORT = 0;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(100_000) HTTP_MAX_CONNECTIONS = 512;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(100_000) INTERNAL_TCP_MAX_CONNECTIONS = 256;
  /** A connection with nothing running that sends nothing for this long is closed (both listeners). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(3_600_000) CONNECTION_IDLE_TIMEOUT_MS = 10_000;
  /** Requests one connection may have running at once; later ones wait, unread (HTTP pipelining, TCP frames). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1024) CONNECTION_MAX_IN_FLIGHT = 8;
  @IsOptional() @Matches(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/) DATABASE_URL = 'sqlite:data/cs2-ssh-pool.sqlite';
  @IsOptional() @IsString() @MinLength(1) DATA_DIR = 'data';
  @IsOptional() @IsString() API_TOKENS?: string;
  @IsOptional() @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'CREDENTIALS_KEY must be base64 of 32 bytes' })
  CREDENTIALS_KEY?: string;
  @IsOptional() @Transform(toBool) @IsBoolean() SSH_POOL_ENABLED = true;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) POOL_IDLE_TIMEOUT_S = 300;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) POOL_MAX_LIFETIME_S = 3600;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) POOL_CLEANUP_INTERVAL_S = 60;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(64) POOL_MAX_CONNECTIONS_PER_KEY = 4;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(10) POOL_MAX_CHANNELS_PER_CONNECTION = 8;
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) SHUTDOWN_GRACE_MS = 10000;
  @IsOptional() @Transform(toBool) @IsBoolean() SSH_SPARE_CHANNELS = true;
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) SSH_READY_TIMEOUT_MS = 15000;
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) SSH_EXEC_TIMEOUT_MS = 30000;
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) SSH_KEEPALIVE_INTERVAL_MS = 15000;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) SSH_KEEPALIVE_COUNT_MAX = 3;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1024) SSH_MAX_OUTPUT_BYTES = 1024 * 1024;
  @IsOptional() @IsString() @MinLength(1) SSH_KEY_DIR?: string;
  /** ssh-keygen's default is 16 and common hardening advice is 100; each round costs ~10 ms of CPU. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(10_000) SSH_KEY_MAX_KDF_ROUNDS = 100;
  @IsOptional() @IsCidrList() SSH_TARGET_ALLOW?: string;
  @IsOptional() @IsCidrList() SSH_TARGET_DENY = '169.254.0.0/16';
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) STATUS_CACHE_MS = 2000;
  /** Backstop for a lost change notification: how long a replica may use a server's cached SSH target. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(3_600_000) SERVER_CACHE_TTL_MS = 10_000;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(64) STATUS_PROBE_CONCURRENCY = 8;
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) STATUS_PROBE_TIMEOUT_MS = 5000;
  /** An operation (start, update…) running longer is stopped and `failed` (EXEC_TIMEOUT). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(7 * 24 * 3600) OPERATION_TIMEOUT_S = 7200;
  /** A running operation whose replica has not renewed it for this long is `interrupted` (by any replica). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) @Max(3_600_000) OPERATION_LEASE_MS = 15_000;
  /** Cancel: SIGTERM to the remote process group, SIGKILL this long after. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(600_000) OPERATION_CANCEL_GRACE_MS = 5000;
  /** How long an Idempotency-Key and its stored answer are kept (then the same key runs again). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(30 * 24 * 3600) IDEMPOTENCY_TTL_S = 86_400;
  @IsOptional() @IsIn(HOST_KEY_POLICIES) HOST_KEY_POLICY: (typeof HOST_KEY_POLICIES)[number] = 'accept-new';
  @IsOptional() @IsIn(LOG_LEVELS) LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';
}

/** Thrown at start when the environment is invalid; the message names every bad variable. */
export class InvalidEnvironmentError extends Error {}

export function validateEnvironment(raw: Record<string, unknown>): EnvironmentVariables {
  const known = Object.keys(new EnvironmentVariables());
  const relevant = Object.fromEntries(
    Object.entries(raw).filter(([key, value]) => known.includes(key) && value !== ''),
  );
  const env = plainToInstance(EnvironmentVariables, relevant, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new InvalidEnvironmentError(`Invalid environment:\n  ${lines.join('\n  ')}`);
  }
  return env;
}
