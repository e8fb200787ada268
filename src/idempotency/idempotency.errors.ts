import { assertNever } from '../common/assert-never.js';
import { DomainError, ErrorKind } from '../common/domain-error.js';
import { SshPoolError, SshPoolErrorCode } from '../ssh-pool/ssh-pool.errors.js';

export enum IdempotencyErrorCode {
  /** The first request with this key has not answered yet (on any replica). */
  IN_PROGRESS = 'IDEMPOTENCY_KEY_IN_PROGRESS',
  /** The key was first used with another route or body. */
  REUSED = 'IDEMPOTENCY_KEY_REUSED',
}

export function idempotencyErrorKind(code: IdempotencyErrorCode): ErrorKind {
  switch (code) {
    case IdempotencyErrorCode.IN_PROGRESS:
      return ErrorKind.CONFLICT;
    case IdempotencyErrorCode.REUSED:
      return ErrorKind.UNPROCESSABLE;
    default:
      return assertNever(code);
  }
}

export class IdempotencyError extends DomainError {
  readonly details = undefined;

  constructor(
    readonly code: IdempotencyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IdempotencyError';
  }

  get kind(): ErrorKind {
    return idempotencyErrorKind(this.code);
  }

  static inProgress(): IdempotencyError {
    return new IdempotencyError(IdempotencyErrorCode.IN_PROGRESS, 'A request with this Idempotency-Key is still in progress; retry it later with the same key');
  }

  static reused(): IdempotencyError {
    return new IdempotencyError(IdempotencyErrorCode.REUSED, 'This Idempotency-Key was first used with another route or body; use a new key for a new request');
  }

  /**
   * The replica running the first request with this key stopped before it stored the answer: the
   * command may have run. Answered with the pool's own code for "may have run".
   */
  static outcomeUnknown(): SshPoolError {
    return new SshPoolError(
      SshPoolErrorCode.OUTCOME_UNKNOWN,
      'The service stopped while it ran the first request with this Idempotency-Key: the command may have run on the host',
    );
  }
}
