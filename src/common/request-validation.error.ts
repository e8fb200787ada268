/** One rejected input field and why; never carries the rejected value (it may be a secret). */
export interface FieldError {
  field: string;
  messages: string[];
}

/** A request the API refuses as invalid: 400 `VALIDATION_FAILED` with `details` naming each field. */
export class RequestValidationError extends Error {
  readonly code = 'VALIDATION_FAILED';

  constructor(readonly details: FieldError[]) {
    super(`Validation failed: ${details.map((d) => d.field).join(', ')}`);
    this.name = 'RequestValidationError';
  }

  static field(field: string, message: string): RequestValidationError {
    return new RequestValidationError([{ field, messages: [message] }]);
  }
}
