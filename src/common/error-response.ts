import { HttpException, HttpStatus } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { DomainError } from './domain-error.js';
import { kindStatus } from './error-status.js';

/** The contract's error body (HTTP) and RPC error payload, without the correlation id the filter adds. */
export interface ErrorDescription {
  statusCode: number;
  code: string;
  message: string;
  details?: unknown;
}

export interface ErrorBody extends ErrorDescription {
  correlationId: string;
}

/** An error answer made earlier and kept (an idempotent request's stored answer): the filter sends its body unchanged. */
export class ReplayedErrorAnswer extends Error {
  constructor(readonly body: ErrorBody) {
    super(body.message);
    this.name = 'ReplayedErrorAnswer';
  }
}

const INTERNAL: ErrorDescription = {
  statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
  code: 'INTERNAL_ERROR',
  message: 'Internal server error',
};

/** `Payload Too Large` → `PAYLOAD_TOO_LARGE`: a stable code for the framework's own HTTP errors. */
function codeForStatus(status: number): string {
  return (STATUS_CODES[status] ?? `HTTP ${status}`).toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/**
 * Body-parser's JSON errors quote the offending text (possibly a password), so they get a fixed
 * message; other framework HTTP errors keep theirs (route names, limits).
 */
function describeHttpException(error: HttpException): ErrorDescription {
  const statusCode = error.getStatus();
  if (error.cause instanceof SyntaxError) {
    return { statusCode, code: 'MALFORMED_JSON', message: 'Request body is not valid JSON' };
  }
  if (error.cause instanceof URIError) {
    return { statusCode, code: 'MALFORMED_URL', message: 'Request URL is not correctly encoded' };
  }
  return { statusCode, code: codeForStatus(statusCode), message: error.message };
}

/** Maps any thrown value to the contract's body; `null` means unknown, to be logged and answered 500. */
export function describeError(error: unknown): ErrorDescription | null {
  if (error instanceof DomainError) {
    return { statusCode: kindStatus(error.kind), code: error.code, message: error.message, details: error.details };
  }
  if (error instanceof HttpException) {
    return describeHttpException(error);
  }
  return null;
}

/** The error's description, or the bare 500 when it is unknown. */
export function describeOrInternal(error: unknown): ErrorDescription {
  return describeError(error) ?? INTERNAL;
}

export function errorBody(error: unknown, correlationId: string): ErrorBody {
  const { details, ...described } = describeOrInternal(error);
  return details === undefined ? { ...described, correlationId } : { ...described, details, correlationId };
}
