import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { refuseAnyField, StrictValidationPipe } from '../common/validation.js';
import { IDEMPOTENCY_KEY_FIELD, isIdempotent } from '../idempotency/idempotency-key.js';

/** Keys of the message envelope, not of the operation: the guard reads `token`, the filter `correlationId`. */
const ENVELOPE_KEYS = new Set(['token', 'correlationId']);
/** Idempotent patterns also carry `idempotencyKey`, read by the idempotency interceptor; elsewhere it is an unknown key. */
const IDEMPOTENT_ENVELOPE_KEYS = new Set([...ENVELOPE_KEYS, IDEMPOTENCY_KEY_FIELD]);

/** The message's payload without its envelope: what the REST body/params of the same operation would be. */
export function withoutEnvelope(data: unknown, idempotent: boolean): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  const envelope = idempotent ? IDEMPOTENT_ENVELOPE_KEYS : ENVELOPE_KEYS;
  return Object.fromEntries(Object.entries(data).filter(([key]) => !envelope.has(key)));
}

const payloadOf = createParamDecorator((_data: unknown, context: ExecutionContext): unknown =>
  withoutEnvelope(context.switchToRpc().getData(), isIdempotent(context.getHandler())),
);

/** The same strict pipe as REST bodies (unknown keys refused, 400 VALIDATION_FAILED), for the payload decorator. */
const payloadValidation = new StrictValidationPipe(true);

/** The payload minus envelope, transformed into and validated as the parameter's DTO class. */
export const RpcBody = (): ParameterDecorator => payloadOf(payloadValidation);

/** For operations that take nothing beyond the envelope: any other key is a 400 naming it, as NoBody does over HTTP. */
export const RpcNoPayload = createParamDecorator((_data: unknown, context: ExecutionContext): void => {
  refuseAnyField(withoutEnvelope(context.switchToRpc().getData(), isIdempotent(context.getHandler())));
});
