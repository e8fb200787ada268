import { DomainError, ErrorKind } from '../common/domain-error.js';

/** Readiness failed; `details` is terminus' health-check result (indicator statuses, no secrets). */
export class NotReadyError extends DomainError {
  readonly code = 'NOT_READY';
  readonly kind = ErrorKind.UNAVAILABLE;

  constructor(readonly details: unknown) {
    super('Service is not ready');
    this.name = 'NotReadyError';
  }
}
