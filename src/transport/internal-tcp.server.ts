import { type MessageHandler, ServerTCP } from '@nestjs/microservices';
import { throwError } from 'rxjs';
import { DomainError, ErrorKind } from '../common/domain-error.js';
import { rpcCorrelationIdOf } from '../common/correlation-id.js';
import { errorBody } from '../common/error-response.js';

/** A message whose pattern no handler serves: the RPC counterpart of an unknown route's 404. */
export class UnknownPatternError extends DomainError {
  readonly code = 'UNKNOWN_PATTERN';
  readonly kind = ErrorKind.NOT_FOUND;
  readonly details = undefined;

  constructor() {
    super('No handler for this message pattern');
    this.name = 'UnknownPatternError';
  }
}

/** Answers like every other failure: the error body, with the message's correlation id. */
const unknownPattern: MessageHandler = async (data: unknown) => throwError(() => errorBody(new UnknownPatternError(), rpcCorrelationIdOf(data)));

/**
 * Nest's TCP server, except that an unknown pattern is answered with the contract's error payload
 * (404 UNKNOWN_PATTERN) instead of a bare string, so callers handle one error shape.
 */
export class InternalTcpServer extends ServerTCP {
  override getHandlerByPattern(pattern: string): MessageHandler | null {
    return super.getHandlerByPattern(pattern) ?? unknownPattern;
  }
}
