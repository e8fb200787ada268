import { type CallHandler, type ExecutionContext, Injectable, Logger, type NestInterceptor } from '@nestjs/common';
import { catchError, type Observable, throwError } from 'rxjs';
import { DatabaseError, isDatabaseUnavailable } from './database-errors.js';

/**
 * Turns a driver's "cannot reach the database" into DatabaseError (503 DATABASE_UNAVAILABLE) for every
 * HTTP and TCP handler, so that an outage is not answered as a bug (500) and the driver's text stays out
 * of the answer. Any other error passes unchanged.
 */
@Injectable()
export class DatabaseUnavailableInterceptor implements NestInterceptor {
  private readonly logger = new Logger(DatabaseUnavailableInterceptor.name);

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(catchError((error: unknown) => throwError(() => this.translate(error))));
  }

  private translate(error: unknown): unknown {
    if (!isDatabaseUnavailable(error)) return error;
    this.logger.warn(`Database unavailable: ${error instanceof Error ? error.message : String(error)}`);
    return new DatabaseError();
  }
}
