import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { refuseAnyField, StrictValidationPipe } from '../common/validation.js';

/** Keys of the message envelope, not of the operation: the guard reads `token`, the filter `correlationId`. */
const ENVELOPE_KEYS = new Set(['token', 'correlationId']);

/** The message's payload without its envelope: what the REST body/params of the same operation would be. */
function withoutEnvelope(data: unknown): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  return Object.fromEntries(Object.entries(data).filter(([key]) => !ENVELOPE_KEYS.has(key)));
}

const payloadOf = createParamDecorator((_data: unknown, context: ExecutionContext): unknown => withoutEnvelope(context.switchToRpc().getData()));

/** The same strict pipe as REST bodies (unknown keys refused, 400 VALIDATION_FAILED), for the payload decorator. */
const payloadValidation = new StrictValidationPipe(true);

/** The payload minus envelope, transformed into and validated as the parameter's DTO class. */
export const RpcBody = (): ParameterDecorator => payloadOf(payloadValidation);

/** For operations that take nothing beyond the envelope: any other key is a 400 naming it, as NoBody does over HTTP. */
export const RpcNoPayload = createParamDecorator((_data: unknown, context: ExecutionContext): void => {
  refuseAnyField(withoutEnvelope(context.switchToRpc().getData()));
});
