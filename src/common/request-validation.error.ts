import { DomainError, ErrorKind } from './domain-error.js';

/** One rejected input field and why; never carries the rejected value (it may be a secret). */
export interface FieldError {
  field: string;
  messages: string[];
}

/** A request the API refuses as invalid: 400 `VALIDATION_FAILED` with `details` naming each field. */
export class RequestValidationError extends DomainError {
  readonly code = 'VALIDATION_FAILED';
  readonly kind = ErrorKind.INVALID_REQUEST;

  constructor(readonly details: FieldError[]) {
    // The fields are in `details`; the message stays fixed, as callers see it.
    super('Request validation failed');
    this.name = 'RequestValidationError';
  }

  static field(field: string, message: string): RequestValidationError {
    return new RequestValidationError([{ field, messages: [message] }]);
  }
}
