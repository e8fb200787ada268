import { type ArgumentsHost, Catch, type ExceptionFilter, HttpStatus, Inject, Logger, Optional } from '@nestjs/common';
import type { Request, Response } from 'express';
import { type Observable, throwError } from 'rxjs';
import { correlationIdOf, REQUEST_ID_HEADER, rpcCorrelationIdOf } from './correlation-id.js';
import { describeError, type ErrorBody, errorBody, ReplayedErrorAnswer } from './error-response.js';
import { ERROR_TRANSLATOR, type ErrorTranslator } from './error-translator.js';

/**
 * The one place errors become responses: an HTTP body, or for the TCP transport an RPC error whose
 * payload is that same body. Unknown errors are logged with their stack and answered as a bare 500,
 * so no internals reach the caller; 5xx domain errors are logged as warnings.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);

  constructor(@Optional() @Inject(ERROR_TRANSLATOR) private readonly translate?: ErrorTranslator) {}

  catch(thrown: unknown, host: ArgumentsHost): void | Observable<never> {
    const error = this.translate?.(thrown) ?? thrown;
    if (error instanceof ReplayedErrorAnswer) return this.replay(error.body, host);
    if (host.getType() === 'rpc') {
      const correlationId = rpcCorrelationIdOf(host.switchToRpc().getData());
      const payload = errorBody(error, correlationId);
      this.log(error, payload.statusCode, correlationId);
      return throwError(() => payload);
    }
    const request = host.switchToHttp().getRequest<Request>();
    const response = host.switchToHttp().getResponse<Response>();
    const correlationId = correlationIdOf(request);
    const body = errorBody(error, correlationId);
    this.log(error, body.statusCode, correlationId);
    response.setHeader(REQUEST_ID_HEADER, correlationId);
    if (body.statusCode === HttpStatus.UNAUTHORIZED) {
      response.setHeader('WWW-Authenticate', 'Bearer');
    }
    response.status(body.statusCode).json(body);
  }

  /** A stored answer, sent again as it was (its own correlation id included); it was logged the first time. */
  private replay(body: ErrorBody, host: ArgumentsHost): void | Observable<never> {
    if (host.getType() === 'rpc') return throwError(() => body);
    const response = host.switchToHttp().getResponse<Response>();
    response.setHeader(REQUEST_ID_HEADER, correlationIdOf(host.switchToHttp().getRequest<Request>()));
    response.status(body.statusCode).json(body);
  }

  private log(error: unknown, status: number, correlationId: string): void {
    if (describeError(error) === null) {
      const stack = error instanceof Error ? error.stack : String(error);
      this.logger.error(`Unhandled error [${correlationId}]`, stack);
    } else if (status >= 500 && error instanceof Error) {
      this.logger.warn(`${error.name} [${correlationId}]: ${error.message}`);
    }
  }
}
