import { type MessageHandler, ServerTCP, type TcpOptions, type TcpSocket } from '@nestjs/microservices';
import type { Socket } from 'node:net';
import { throwError } from 'rxjs';
import { DomainError, ErrorKind } from '../common/domain-error.js';
import { rpcCorrelationIdOf } from '../common/correlation-id.js';
import { errorBody } from '../common/error-response.js';
import { BoundedJsonSocket, type TcpConnectionLimits } from '../edge/tcp-connections.js';

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

type InternalTcpOptions = Required<Pick<NonNullable<TcpOptions['options']>, 'host' | 'port' | 'maxBufferSize' | 'incompleteMessageTimeout' | 'maxSendBufferSize'>>;

/**
 * Nest's TCP server, except that an unknown pattern is answered with the contract's error payload
 * (404 UNKNOWN_PATTERN) instead of a bare string, so callers handle one error shape, and that each
 * client is bounded (src/edge/): connections, idle ones, requests running per connection.
 */
export class InternalTcpServer extends ServerTCP {
  constructor(
    private readonly framing: InternalTcpOptions,
    private readonly limits: TcpConnectionLimits,
  ) {
    super(framing);
    this.server.maxConnections = limits.maxConnections;
  }

  protected override getSocketInstance(socket: Socket): TcpSocket {
    const { maxBufferSize, incompleteMessageTimeout, maxSendBufferSize } = this.framing;
    return new BoundedJsonSocket(socket, { maxBufferSize, incompleteMessageTimeout, maxSendBufferSize }, this.limits);
  }

  override getHandlerByPattern(pattern: string): MessageHandler | null {
    return super.getHandlerByPattern(pattern) ?? unknownPattern;
  }
}
