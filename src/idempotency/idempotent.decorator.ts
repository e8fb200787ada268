import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { IDEMPOTENCY_KEY_HEADER, markIdempotent, REPLAYED_HEADER } from './idempotency-key.js';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';

/**
 * The route (REST) or pattern (TCP) takes an idempotency key: the `Idempotency-Key` header, or the
 * payload's `idempotencyKey`. Documents the header; the success response documents REPLAYED_HEADER_DOC.
 */
export const Idempotent = (): MethodDecorator =>
  applyDecorators(
    markIdempotent(),
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: IDEMPOTENCY_KEY_HEADER,
      required: false,
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' },
      description:
        '1-255 visible ASCII characters, unique per request. A repeat with the same key, route and body runs nothing and gets the first answer again ' +
        '(`Idempotent-Replayed: true`); 409 IDEMPOTENCY_KEY_IN_PROGRESS while the first runs; 422 IDEMPOTENCY_KEY_REUSED with another route or body. Kept IDEMPOTENCY_TTL_S.',
    }),
  );

/** For the `headers` of an idempotent route's success response. */
export const REPLAYED_HEADER_DOC = {
  [REPLAYED_HEADER]: { description: '`true` when this is the stored answer of an earlier request with the same Idempotency-Key', schema: { type: 'string', enum: ['true'] } },
};
