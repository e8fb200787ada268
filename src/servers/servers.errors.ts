import { assertNever } from '../common/assert-never.js';
import { DomainError, ErrorKind } from '../common/domain-error.js';

/** Every way a server-registry operation can fail; each code declares its kind of failure (serverErrorKind). */
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
  /** A delete while an operation (start, update…) of the server runs: cancel it or let it end first. */
  OPERATION_IN_PROGRESS = 'OPERATION_IN_PROGRESS',
}

export function serverErrorKind(code: ServerErrorCode): ErrorKind {
  switch (code) {
    case ServerErrorCode.NOT_FOUND:
      return ErrorKind.NOT_FOUND;
    case ServerErrorCode.NAME_TAKEN:
    case ServerErrorCode.OPERATION_IN_PROGRESS:
      return ErrorKind.CONFLICT;
    case ServerErrorCode.KEY_INVALID:
      return ErrorKind.UNPROCESSABLE;
    case ServerErrorCode.CREDENTIALS_UNREADABLE:
      return ErrorKind.INTERNAL;
    default:
      return assertNever(code);
  }
}

/** A server-registry failure. Messages name servers and paths, never a secret. */
export class ServerError extends DomainError {
  constructor(
    readonly code: ServerErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ServerError';
  }

  get kind(): ErrorKind {
    return serverErrorKind(this.code);
  }

  static notFound(id: string): ServerError {
    return new ServerError(ServerErrorCode.NOT_FOUND, `Server ${id} not found`, { id });
  }
}
