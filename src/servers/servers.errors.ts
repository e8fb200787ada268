/** Every way a server-registry operation can fail; the HTTP layer maps each code to a status exhaustively. */
export enum ServerErrorCode {
  NOT_FOUND = 'SERVER_NOT_FOUND',
  NAME_TAKEN = 'SERVER_NAME_TAKEN',
  /**
   * The record's `sshKeyPath` cannot be used (missing, outside SSH_KEY_DIR, not a file, too large, no
   * access): one code and one message for all, so that answers reveal nothing about the file system.
   */
  KEY_INVALID = 'SSH_KEY_INVALID',
  /** A stored secret does not decrypt: CREDENTIALS_KEY differs from the one it was written with. */
  CREDENTIALS_UNREADABLE = 'CREDENTIALS_UNREADABLE',
}

/** A server-registry failure. Messages name servers and paths, never a secret. */
export class ServerError extends Error {
  constructor(
    readonly code: ServerErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ServerError';
  }

  static notFound(id: string): ServerError {
    return new ServerError(ServerErrorCode.NOT_FOUND, `Server ${id} not found`, { id });
  }
}
