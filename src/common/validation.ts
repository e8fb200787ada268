import { type ArgumentMetadata, Param, ParseUUIDPipe, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { type FieldError, RequestValidationError } from './request-validation.error.js';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = `${prefix}${error.property}`;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], `${field}.`)];
  });
}

/**
 * The one global pipe. Beyond ValidationPipe it refuses a JSON array or scalar where a DTO object is
 * expected: class-validator would otherwise validate the array object itself, and an all-optional
 * DTO (PATCH) would let `[]` through.
 */
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super({
      transform: true,
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => new RequestValidationError(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const expectsObject = metadata.type === 'body' && typeof metadata.metatype === 'function';
    if (expectsObject && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw RequestValidationError.field('body', 'body must be a JSON object');
    }
    return super.transform(value, metadata);
  }
}

/** A route parameter that must be a UUID; anything else is a 400 naming the parameter. */
export const UuidParam = (name: string): ParameterDecorator =>
  Param(
    name,
    new ParseUUIDPipe({
      exceptionFactory: () => RequestValidationError.field(name, `${name} must be a UUID`),
    }),
  );
