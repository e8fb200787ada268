import { type MessageHandler, ServerTCP, type TcpOptions, type TcpSocket } from '@nestjs/microservices';
import { InvalidTcpDataReceptionException } from '@nestjs/microservices/errors/invalid-tcp-data-reception.exception.js';
import type { Socket } from 'node:net';
import { throwError } from 'rxjs';
import { DomainError, ErrorKind } from '../common/domain-error.js';
import { rpcCorrelationIdOf } from '../common/correlation-id.js';
import { errorBody } from '../common/error-response.js';
import { PeerErrorLog } from './peer-error-log.js';
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
 * (404 UNKNOWN_PATTERN) instead of a bare string, so callers handle one error shape; frames without
 * an id are refused; peers' protocol errors are logged short and rate-limited; and each client is
 * bounded (src/edge/): connections, idle ones, requests running per connection.
 */
export class InternalTcpServer extends ServerTCP {
  private readonly peerErrors = new PeerErrorLog(this.logger);

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

  /**
   * A frame without an `id` (Nest's "event") could not be answered: its handler is not run, so that
   * nothing (an exec, a delete) happens without a reply. Every pattern here is a request.
   */
  override async handleEvent(pattern: string): Promise<void> {
    this.peerErrors.warn(`Dropped a TCP frame without an id (pattern ${JSON.stringify(pattern.slice(0, 64))}): every message needs one`);
  }

  /** A peer's broken frame or socket is its problem: one short line, rate-limited, no stack. */
  override handleError(error: string): void {
    const failure: unknown = error; // typed as a string by Nest; sockets hand it their errors
    if (failure instanceof InvalidTcpDataReceptionException) this.peerErrors.warn(`Closed a TCP peer's connection: ${failure.message}`);
    else super.handleError(error);
  }
}
