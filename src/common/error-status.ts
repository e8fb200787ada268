import { HttpStatus } from '@nestjs/common';
import { assertNever } from './assert-never.js';
import { ErrorKind } from './domain-error.js';

/** The one mapping from failure kinds to HTTP statuses; RPC errors carry the same statusCode. */
export function kindStatus(kind: ErrorKind): HttpStatus {
  switch (kind) {
    case ErrorKind.INVALID_REQUEST:
      return HttpStatus.BAD_REQUEST;
    case ErrorKind.FORBIDDEN:
      return HttpStatus.FORBIDDEN;
    case ErrorKind.NOT_FOUND:
      return HttpStatus.NOT_FOUND;
    case ErrorKind.CONFLICT:
      return HttpStatus.CONFLICT;
    case ErrorKind.UNPROCESSABLE:
      return HttpStatus.UNPROCESSABLE_ENTITY;
    case ErrorKind.UPSTREAM_FAILURE:
      return HttpStatus.BAD_GATEWAY;
    case ErrorKind.UNAVAILABLE:
      return HttpStatus.SERVICE_UNAVAILABLE;
    case ErrorKind.TIMEOUT:
      return HttpStatus.GATEWAY_TIMEOUT;
    case ErrorKind.INTERNAL:
      return HttpStatus.INTERNAL_SERVER_ERROR;
    default:
      return assertNever(kind);
  }
}
