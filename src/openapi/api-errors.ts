import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse, ApiSchema, getSchemaPath } from '@nestjs/swagger';
import { kindStatus } from '../common/error-status.js';
import { IdempotencyErrorCode, idempotencyErrorKind } from '../idempotency/idempotency.errors.js';
import { DatabaseError, DatabaseErrorCode } from '../database/database-errors.js';
import { OperationErrorCode, operationErrorKind } from '../operations/operations.errors.js';
import { ServerErrorCode, serverErrorKind } from '../servers/servers.errors.js';
import { SshPoolErrorCode, poolErrorKind } from '../ssh-pool/ssh-pool.errors.js';

/** Codes the HTTP edge itself answers (auth, request parsing, readiness, the bare 500), with their status. */
export const EDGE_ERRORS = {
  VALIDATION_FAILED: HttpStatus.BAD_REQUEST,
  MALFORMED_JSON: HttpStatus.BAD_REQUEST,
  MALFORMED_URL: HttpStatus.BAD_REQUEST,
  UNAUTHORIZED: HttpStatus.UNAUTHORIZED,
  /** No such route (or method): Nest's router, token or not. */
  NOT_FOUND: HttpStatus.NOT_FOUND,
  PAYLOAD_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  UNSUPPORTED_MEDIA_TYPE: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  INTERNAL_ERROR: HttpStatus.INTERNAL_SERVER_ERROR,
  NOT_READY: HttpStatus.SERVICE_UNAVAILABLE,
} as const;

export type EdgeErrorCode = keyof typeof EDGE_ERRORS;
export type ApiErrorCode = EdgeErrorCode | SshPoolErrorCode | ServerErrorCode | OperationErrorCode | IdempotencyErrorCode | DatabaseErrorCode;

const isPoolCode = (code: string): code is SshPoolErrorCode => (Object.values(SshPoolErrorCode) as string[]).includes(code);
const isServerCode = (code: string): code is ServerErrorCode => (Object.values(ServerErrorCode) as string[]).includes(code);
const isOperationCode = (code: string): code is OperationErrorCode => (Object.values(OperationErrorCode) as string[]).includes(code);
const isIdempotencyCode = (code: string): code is IdempotencyErrorCode => (Object.values(IdempotencyErrorCode) as string[]).includes(code);
const isDatabaseCode = (code: string): code is DatabaseErrorCode => (Object.values(DatabaseErrorCode) as string[]).includes(code);

/** The status a code is answered with: the domain codes through their kind and the error filter's own mapping. */
export function statusOfCode(code: ApiErrorCode): number {
  if (isPoolCode(code)) return kindStatus(poolErrorKind(code));
  if (isServerCode(code)) return kindStatus(serverErrorKind(code));
  if (isOperationCode(code)) return kindStatus(operationErrorKind(code));
  if (isIdempotencyCode(code)) return kindStatus(idempotencyErrorKind(code));
  if (isDatabaseCode(code)) return kindStatus(new DatabaseError(code).kind);
  return EDGE_ERRORS[code];
}

/** Every code an error body may carry, sorted and without the repeats (SSH_KEY_INVALID is both a pool and a server code). */
export const ALL_ERROR_CODES: readonly ApiErrorCode[] = [
  ...new Set<ApiErrorCode>([
    ...(Object.keys(EDGE_ERRORS) as EdgeErrorCode[]),
    ...Object.values(SshPoolErrorCode),
    ...Object.values(ServerErrorCode),
    ...Object.values(OperationErrorCode),
    ...Object.values(IdempotencyErrorCode),
    ...Object.values(DatabaseErrorCode),
  ]),
].sort();

@ApiSchema({ name: 'FieldError' })
class FieldErrorDto {
  @ApiProperty({ example: 'sshPort' }) field!: string;
  @ApiProperty({ type: [String] }) messages!: string[];
}

/** The contract's error body, for the document only: error-response.ts builds the real one. */
@ApiSchema({ name: 'ErrorBody' })
@ApiExtraModels(FieldErrorDto)
export class ErrorBodyDto {
  @ApiProperty({ type: 'integer', example: 404 }) statusCode!: number;
  @ApiProperty({ enum: ALL_ERROR_CODES, enumName: 'ErrorCode' }) code!: string;
  @ApiProperty({ example: 'Server 6f1c2b9e-8d4a-4f3e-9b7c-2a1d0e5f6a7b not found' }) message!: string;
  @ApiPropertyOptional({
    description: 'VALIDATION_FAILED: each bad field and why (never its value); other codes: an object, or absent.',
    oneOf: [{ type: 'array', items: { $ref: getSchemaPath(FieldErrorDto) } }, { type: 'object', additionalProperties: true }],
  })
  details?: unknown;
  @ApiProperty({ description: "The caller's `X-Request-Id` when acceptable, else a new UUID; echoed in that header." })
  correlationId!: string;
}

/** One response per status, each naming its codes, with the status the error filter's own mapping gives. */
function errorResponses(codes: ApiErrorCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of new Set(codes)) {
    byStatus.set(statusOfCode(code), [...(byStatus.get(statusOfCode(code)) ?? []), code]);
  }
  const responses = [...byStatus].map(([status, statusCodes]) =>
    ApiResponse({
      status,
      description: statusCodes.join(', '),
      content: {
        'application/json': {
          schema: {
            allOf: [{ $ref: getSchemaPath(ErrorBodyDto) }, { type: 'object', properties: { statusCode: { enum: [status] }, code: { enum: statusCodes } } }],
          },
        },
      },
    }),
  );
  return applyDecorators(ApiExtraModels(ErrorBodyDto), ...responses);
}

/** The error answers of a route: the codes given, the bare 500, and the database outage's 503 any route may answer. */
export const ApiErrors = (...codes: ApiErrorCode[]): MethodDecorator => errorResponses([...codes, 'INTERNAL_ERROR', DatabaseErrorCode.UNAVAILABLE]);

/** The bearer scheme every `/api` route requires (declared in openapi.setup.ts), and its 401. */
export const BEARER_SCHEME = 'bearer';
export const ApiProtected = (): ClassDecorator => applyDecorators(ApiBearerAuth(BEARER_SCHEME), errorResponses(['UNAUTHORIZED']));

// Code groups, so that each route lists what it can answer without repeating the same lists.
/** Any route with a JSON body (the no-body routes included: a body they refuse is still parsed first). */
export const BODY_ERRORS: ApiErrorCode[] = ['VALIDATION_FAILED', 'MALFORMED_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'];
/** A UUID in the path. */
export const ID_ERRORS: ApiErrorCode[] = ['VALIDATION_FAILED', 'MALFORMED_URL', ServerErrorCode.NOT_FOUND];
/** Building a server's SSH target from its record. */
export const TARGET_ERRORS: ApiErrorCode[] = [ServerErrorCode.KEY_INVALID, ServerErrorCode.CREDENTIALS_UNREADABLE];
/** Opening an SSH connection. */
export const CONNECT_ERRORS: ApiErrorCode[] = [
  SshPoolErrorCode.AUTH_FAILED,
  SshPoolErrorCode.UNREACHABLE,
  SshPoolErrorCode.HOST_KEY_MISMATCH,
  SshPoolErrorCode.CONNECT_TIMEOUT,
  SshPoolErrorCode.HOST_DOWN,
  SshPoolErrorCode.SHUTTING_DOWN,
  SshPoolErrorCode.KEY_INVALID,
  SshPoolErrorCode.TARGET_FORBIDDEN,
];
/** Running a command: everything connecting can answer, and the command's own failures. */
export const EXEC_ERRORS: ApiErrorCode[] = [...CONNECT_ERRORS, SshPoolErrorCode.CHANNEL_FAILED, SshPoolErrorCode.OUTCOME_UNKNOWN, SshPoolErrorCode.EXEC_TIMEOUT];
/** A route that takes an Idempotency-Key: a bad key, a key in use or reused, a key whose first request's replica died. */
export const IDEMPOTENCY_ERRORS: ApiErrorCode[] = ['VALIDATION_FAILED', IdempotencyErrorCode.IN_PROGRESS, IdempotencyErrorCode.REUSED, SshPoolErrorCode.OUTCOME_UNKNOWN];
