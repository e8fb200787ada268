import { type ArgumentMetadata, createParamDecorator, type ExecutionContext, Param, ParseUUIDPipe, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import type { Request } from 'express';
import { jsonShapeError } from './json-body.js';
import { type FieldError, RequestValidationError } from './request-validation.error.js';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = `${prefix}${error.property}`;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], `${field}.`)];
  });
}

/**
 * The one global pipe. Beyond ValidationPipe it refuses, before class-transformer sees the value:
 * - nesting deeper than MAX_BODY_DEPTH (class-transformer recurses and would overflow the stack);
 * - `__proto__`/`constructor`/`prototype` keys, which class-transformer skips and so the whitelist
 *   never reports;
 * - a JSON array or scalar where a DTO object is expected: class-validator would otherwise validate
 *   the array object itself, and an all-optional DTO (PATCH) would let `[]` through.
 */
export class StrictValidationPipe extends ValidationPipe {
  /** @param payloadDecorator validate a custom decorator's value (the RPC payload) as a body */
  constructor(private readonly payloadDecorator = false) {
    super({
      validateCustomDecorators: payloadDecorator,
      transform: true,
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => new RequestValidationError(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const shapeError = jsonShapeError(value);
    if (shapeError) throw new RequestValidationError([shapeError]);
    const bodyLike = metadata.type === 'body' || (this.payloadDecorator && metadata.type === 'custom');
    const expectsObject = bodyLike && typeof metadata.metatype === 'function';
    if (expectsObject && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw RequestValidationError.field('body', 'body must be a JSON object');
    }
    return super.transform(value, metadata);
  }
}

/** Ids are stored in lower case; a UUID is the same id in any case, so it is compared in lower case. */
class LowerCaseUuidPipe extends ParseUUIDPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<string | undefined | null> {
    const id = await super.transform(value, metadata);
    return typeof id === 'string' ? id.toLowerCase() : id;
  }
}

/** A route parameter that must be a UUID (any case); anything else is a 400 naming the parameter. */
export const UuidParam = (name: string): ParameterDecorator =>
  Param(
    name,
    new LowerCaseUuidPipe({
      exceptionFactory: () => RequestValidationError.field(name, `${name} must be a UUID`),
    }),
  );

/**
 * For routes that take no body: none, or `{}`. Anything else is a 400 naming each field, as unknown
 * fields are everywhere else, instead of being silently ignored.
 */
export const NoBody = createParamDecorator((_data: unknown, context: ExecutionContext): void => {
  refuseAnyField(context.switchToHttp().getRequest<Request>().body);
});

/** What NoBody checks, for any transport: no body, or an empty object. */
export function refuseAnyField(body: unknown): void {
  if (body === undefined) return;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw RequestValidationError.field('body', 'this route takes no body (send none, or {})');
  }
  const fields = Object.keys(body);
  if (fields.length > 0) {
    throw new RequestValidationError(fields.map((field) => ({ field, messages: [`property ${field} should not exist`] })));
  }
}
