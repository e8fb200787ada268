/** Every way a pool operation can fail; the HTTP layer maps each code to a status exhaustively. */
export enum SshPoolErrorCode {
  AUTH_FAILED = 'SSH_AUTH_FAILED',
  UNREACHABLE = 'SSH_UNREACHABLE',
  HOST_KEY_MISMATCH = 'SSH_HOST_KEY_MISMATCH',
  CONNECT_TIMEOUT = 'SSH_CONNECT_TIMEOUT',
  EXEC_TIMEOUT = 'EXEC_TIMEOUT',
  HOST_DOWN = 'SSH_HOST_DOWN',
  SHUTTING_DOWN = 'POOL_SHUTTING_DOWN',
  /** The connection died under a running command, or the server refused channels persistently. */
  CHANNEL_FAILED = 'SSH_CHANNEL_FAILED',
}

/** A pool failure. Messages name the connection key (user@host:port), never a credential. */
export class SshPoolError extends Error {
  constructor(
    readonly code: SshPoolErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'SshPoolError';
  }
}
