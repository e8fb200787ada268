import {
  type ArgumentsHost,
  BadRequestException,
  ConsoleLogger,
  HttpException,
  Logger,
  NotFoundException,
  PayloadTooLargeException,
  UnauthorizedException,
} from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import type { Request } from 'express';
import { firstValueFrom, type Observable } from 'rxjs';
import { ServerError, ServerErrorCode } from '../servers/servers.errors.js';
import { SshPoolError, SshPoolErrorCode } from '../ssh-pool/ssh-pool.errors.js';
import { AllExceptionsFilter } from './all-exceptions.filter.js';
import { DomainError, ErrorKind } from './domain-error.js';
import { RequestValidationError } from './request-validation.error.js';

/** What the filter wrote: a stand-in for express's Response, recording instead of sending. */
class RecordedResponse {
  statusCode = 0;
  body: unknown;
  headers: Record<string, string> = {};
  setHeader(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }
  status(code: number): this {
    this.statusCode = code;
    return this;
  }
  json(body: unknown): this {
    this.body = body;
    return this;
  }
}

class CapturingLogger extends ConsoleLogger {
  readonly errors: string[] = [];
  override error(message: unknown, ...rest: unknown[]): void {
    this.errors.push([message, ...rest].map(String).join(' '));
  }
  override warn(): void {}
  override log(): void {}
}

function httpHost(request: Partial<Request>, response: RecordedResponse): ArgumentsHost {
  return new ExecutionContextHost([request, response]);
}

function run(error: unknown, headers: Record<string, string> = {}): RecordedResponse {
  const response = new RecordedResponse();
  new AllExceptionsFilter().catch(error, httpHost({ headers } as Partial<Request>, response));
  return response;
}

describe('AllExceptionsFilter', () => {
  let logger: CapturingLogger;
  beforeEach(() => {
    logger = new CapturingLogger();
    Logger.overrideLogger(logger);
  });
  afterEach(() => Logger.overrideLogger(new ConsoleLogger()));

  const poolStatus: Record<SshPoolErrorCode, number> = {
    [SshPoolErrorCode.AUTH_FAILED]: 502,
    [SshPoolErrorCode.UNREACHABLE]: 502,
    [SshPoolErrorCode.HOST_KEY_MISMATCH]: 502,
    [SshPoolErrorCode.CHANNEL_FAILED]: 502,
    [SshPoolErrorCode.OUTCOME_UNKNOWN]: 502,
    [SshPoolErrorCode.CONNECT_TIMEOUT]: 504,
    [SshPoolErrorCode.EXEC_TIMEOUT]: 504,
    [SshPoolErrorCode.HOST_DOWN]: 503,
    [SshPoolErrorCode.SHUTTING_DOWN]: 503,
    [SshPoolErrorCode.KEY_INVALID]: 422,
    [SshPoolErrorCode.TARGET_FORBIDDEN]: 403,
  };
  it.each(Object.values(SshPoolErrorCode))('maps pool error %s to its contract status', (code) => {
    const res = run(new SshPoolError(code, 'cs2@10.0.0.5:22 failed', { host: '10.0.0.5' }), { 'x-request-id': 'req-1' });
    expect(res.statusCode).toBe(poolStatus[code]);
    expect(res.body).toEqual({ statusCode: poolStatus[code], code, message: 'cs2@10.0.0.5:22 failed', details: { host: '10.0.0.5' }, correlationId: 'req-1' });
    expect(res.headers['x-request-id']).toBe('req-1');
  });

  const serverStatus: Record<ServerErrorCode, number> = {
    [ServerErrorCode.NOT_FOUND]: 404,
    [ServerErrorCode.NAME_TAKEN]: 409,
    [ServerErrorCode.KEY_INVALID]: 422,
    [ServerErrorCode.CREDENTIALS_UNREADABLE]: 500,
    [ServerErrorCode.OPERATION_IN_PROGRESS]: 409,
  };
  it.each(Object.values(ServerErrorCode))('maps server error %s to its status', (code) => {
    const res = run(new ServerError(code, 'message'));
    expect(res.body).toEqual({ statusCode: serverStatus[code], code, message: 'message', correlationId: expect.any(String) });
  });

  it('maps a domain error of any module by its declared kind, without knowing the module', () => {
    class QuotaError extends DomainError {
      readonly code = 'QUOTA_EXCEEDED';
      constructor(
        readonly kind: ErrorKind,
        readonly details?: unknown,
      ) {
        super('quota exceeded');
      }
    }
    const statuses = Object.values(ErrorKind).map((kind) => [kind, run(new QuotaError(kind)).statusCode]);
    expect(Object.fromEntries(statuses)).toEqual({
      INVALID_REQUEST: 400,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      CONFLICT: 409,
      UNPROCESSABLE: 422,
      UPSTREAM_FAILURE: 502,
      UNAVAILABLE: 503,
      TIMEOUT: 504,
      INTERNAL: 500,
    });
    expect(run(new QuotaError(ErrorKind.CONFLICT, { limit: 3 })).body).toEqual({
      statusCode: 409,
      code: 'QUOTA_EXCEEDED',
      message: 'quota exceeded',
      details: { limit: 3 },
      correlationId: expect.any(String),
    });
  });

  it('answers validation failures 400 VALIDATION_FAILED naming the fields', () => {
    const res = run(new RequestValidationError([{ field: 'sshPort', messages: ['sshPort must be an integer'] }]));
    expect(res.body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'Request validation failed',
      details: [{ field: 'sshPort', messages: ['sshPort must be an integer'] }],
      correlationId: expect.any(String),
    });
  });

  it('answers malformed JSON 400 without echoing the body text', () => {
    const parseError = new SyntaxError('Unexpected token h in JSON: {"sshPassword": hunter2');
    const res = run(new BadRequestException(parseError.message, { cause: parseError }));
    expect(res.body).toEqual({ statusCode: 400, code: 'MALFORMED_JSON', message: 'Request body is not valid JSON', correlationId: expect.any(String) });
  });

  it('gives framework HTTP errors a code from their status, and 401 a WWW-Authenticate header', () => {
    expect(run(new PayloadTooLargeException()).body).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(run(new NotFoundException('Cannot GET /x')).body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND', message: 'Cannot GET /x' });
    expect(run(new HttpException('teapot', 418)).body).toMatchObject({ statusCode: 418, code: 'I_M_A_TEAPOT' });
    const unauthorized = run(new UnauthorizedException('Missing or invalid bearer token'));
    expect(unauthorized.body).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
    expect(unauthorized.headers['www-authenticate']).toBe('Bearer');
  });

  it('answers unknown errors with a bare 500 and logs them with the correlation id', () => {
    const res = run(new TypeError("Cannot read properties of undefined (reading 'password') at /srv/app/x.js"), { 'x-request-id': 'req-9' });
    expect(res.body).toEqual({ statusCode: 500, code: 'INTERNAL_ERROR', message: 'Internal server error', correlationId: 'req-9' });
    expect(logger.errors).toEqual([expect.stringContaining('Unhandled error [req-9]')]);
    expect(logger.errors[0]).toContain("reading 'password'");
    expect(run('a thrown string').statusCode).toBe(500);
  });

  it('does not log expected 4xx errors', () => {
    run(new ServerError(ServerErrorCode.NOT_FOUND, 'gone'));
    expect(logger.errors).toEqual([]);
  });

  const rpc = (error: unknown, data: unknown): Promise<never> => {
    const host = new ExecutionContextHost([data, {}]);
    host.setType('rpc');
    return firstValueFrom(new AllExceptionsFilter().catch(error, host) as Observable<never>);
  };

  it('fails RPC calls with the HTTP body: same status, code, details, and a correlation id', async () => {
    await expect(rpc(ServerError.notFound('abc'), { token: 't', id: 'abc' })).rejects.toEqual({
      statusCode: 404,
      code: 'SERVER_NOT_FOUND',
      message: 'Server abc not found',
      details: { id: 'abc' },
      correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    await expect(rpc(new SshPoolError(SshPoolErrorCode.EXEC_TIMEOUT, 'slow'), 'not an object')).rejects.toMatchObject({ statusCode: 504, code: 'EXEC_TIMEOUT' });
  });

  it("takes an RPC caller's correlation id when it is acceptable, and logs unknown RPC errors with it", async () => {
    await expect(rpc(new TypeError('boom'), { correlationId: 'job-42:7' })).rejects.toEqual({
      statusCode: 500,
      code: 'INTERNAL_ERROR',
      message: 'Internal server error',
      correlationId: 'job-42:7',
    });
    expect(logger.errors).toEqual([expect.stringContaining('Unhandled error [job-42:7]')]);
    const refused = rpc(new TypeError('boom'), { correlationId: 'evil\nX-Header: 1' });
    await expect(refused).rejects.toMatchObject({ correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });
});
