import { SetMetadata } from '@nestjs/common';
import { RequestValidationError } from '../common/request-validation.error.js';

/** Handler metadata: the route takes an Idempotency-Key (the TCP payload an `idempotencyKey`). */
export const IDEMPOTENT = 'cs2:idempotent';
export const markIdempotent = (): MethodDecorator => SetMetadata(IDEMPOTENT, true);
export const isIdempotent = (handler: object): boolean => Reflect.getMetadata(IDEMPOTENT, handler) === true;

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const REPLAYED_HEADER = 'Idempotent-Replayed';
/** The TCP payload's field that carries the key. */
export const IDEMPOTENCY_KEY_FIELD = 'idempotencyKey';

/** 1–255 visible ASCII characters (no space, no control character). */
const KEY = /^[\x21-\x7e]{1,255}$/;

/** The key, or null when none was sent. @throws RequestValidationError naming `field` when it is malformed */
export function parseIdempotencyKey(value: unknown, field: string): string | null {
  if (value === undefined) return null;
  if (typeof value === 'string' && KEY.test(value)) return value;
  throw RequestValidationError.field(field, `${field} must be 1-255 visible ASCII characters`);
}
