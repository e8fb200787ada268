import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AllExceptionsFilter } from './all-exceptions.filter.js';
import { ApiTokenGuard } from './api-token.guard.js';
import { apiTokensProvider } from './api-tokens.provider.js';
import { CorrelationIdMiddleware } from './correlation-id.js';
import { StrictValidationPipe } from './validation.js';

/**
 * The HTTP edge every module shares: bearer authentication, the validation pipe, the error filter
 * and correlation ids. Registered as APP_* providers so that tests booting AppModule get them too.
 */
@Module({
  providers: [
    apiTokensProvider,
    { provide: APP_GUARD, useClass: ApiTokenGuard },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
    { provide: APP_PIPE, useClass: StrictValidationPipe },
  ],
})
export class CommonModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CorrelationIdMiddleware).forRoutes('*');
  }
}
