/** Every way a server-registry operation can fail; the HTTP layer maps each code to a status exhaustively. */
export enum ServerErrorCode {
  NOT_FOUND = 'SERVER_NOT_FOUND',
  NAME_TAKEN = 'SERVER_NAME_TAKEN',
  /** The record's `sshKeyPath` cannot be read by the service (missing, not a file, too large, no access). */
  KEY_FILE_UNREADABLE = 'SSH_KEY_FILE_UNREADABLE',
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
