/**
 * What kind of failure an error is, independent of the feature that raised it. Each domain error
 * declares its kind; error-status.ts turns kinds into HTTP statuses (and the RPC error payload's
 * statusCode) in one place, so src/common never needs to know the feature modules.
 */
export enum ErrorKind {
  /** The request itself is malformed or names bad fields (400). */
  INVALID_REQUEST = 'INVALID_REQUEST',
  /** The caller may not reach this target (403). */
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  /** The request clashes with the current state (409). */
  CONFLICT = 'CONFLICT',
  /** Well-formed input that cannot be used, such as a key that does not decode (422). */
  UNPROCESSABLE = 'UNPROCESSABLE',
  /** The host or server we depend on failed or refused us (502). */
  UPSTREAM_FAILURE = 'UPSTREAM_FAILURE',
  /** This service, or a host it backs off from, takes no work now (503). */
  UNAVAILABLE = 'UNAVAILABLE',
  /** The host we depend on did not answer in time (504). */
  TIMEOUT = 'TIMEOUT',
  /** Our own fault or misconfiguration: logged, 500. */
  INTERNAL = 'INTERNAL',
}

/**
 * A failure with a stable `code` the caller may act on. Its message and details reach the caller,
 * so they must never hold a secret.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly kind: ErrorKind;
  abstract readonly details?: unknown;
}
