import { assertNever } from '../common/assert-never.js';
import { DomainError, ErrorKind } from '../common/domain-error.js';

export enum OperationErrorCode {
  NOT_FOUND = 'OPERATION_NOT_FOUND',
  /** Another operation of the server is running (on any replica). */
  IN_PROGRESS = 'OPERATION_IN_PROGRESS',
  /** A cancel for an operation that has already ended. */
  NOT_RUNNING = 'OPERATION_NOT_RUNNING',
}

export function operationErrorKind(code: OperationErrorCode): ErrorKind {
  switch (code) {
    case OperationErrorCode.NOT_FOUND:
      return ErrorKind.NOT_FOUND;
    case OperationErrorCode.IN_PROGRESS:
    case OperationErrorCode.NOT_RUNNING:
      return ErrorKind.CONFLICT;
    default:
      return assertNever(code);
  }
}

export class OperationError extends DomainError {
  constructor(
    readonly code: OperationErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'OperationError';
  }

  get kind(): ErrorKind {
    return operationErrorKind(this.code);
  }

  static notFound(id: string): OperationError {
    return new OperationError(OperationErrorCode.NOT_FOUND, `Operation ${id} not found`, { id });
  }
}
