import { createParamDecorator, type ExecutionContext, type MessageEvent } from '@nestjs/common';
import type { TcpContext } from '@nestjs/microservices';
import type { Socket } from 'node:net';
import { filter, map, Observable, takeUntil } from 'rxjs';
import { socketDrained } from '../operations/operation-events.stream.js';
import type { OperationEventType } from '../operations/operation.entity.js';

/** One message of an `operations.events` reply: an SSE event of the same stream, id as a number. */
export interface OperationEventMessage {
  id: number;
  event: OperationEventType;
  data: unknown;
}

/** What a streamed reply needs to know about its caller's connection. */
export interface RpcConnection {
  /** Emits once the connection is gone (at once if it already is). */
  closed: Observable<void>;
  /** Resolves once the replies handed to the connection are below its high-water mark, or it closed. */
  drained(): Promise<void>;
}

function closed(socket: Socket): Observable<void> {
  return new Observable<void>((subscriber) => {
    if (socket.destroyed) return subscriber.next();
    const gone = () => subscriber.next();
    socket.once('close', gone);
    return () => void socket.off('close', gone);
  });
}

/**
 * The caller's connection. A parameter decorator rather than `@Ctx()`: the global pipe inspects
 * every parameter's shape, and a context holds the whole socket.
 */
export const CallerConnection = createParamDecorator((_data: unknown, context: ExecutionContext): RpcConnection =>
  connectionOf(context.switchToRpc().getContext<TcpContext>().getSocketRef().netSocket),
);

export function connectionOf(socket: Socket): RpcConnection {
  return { closed: closed(socket), drained: () => socketDrained(socket) };
}

/**
 * The SSE stream as TCP messages. Keep-alive comments are left out: they are for HTTP proxies. Nest's
 * TCP server keeps a reply stream subscribed until it completes, whether or not its caller is still
 * connected; so the stream ends when the connection does, and its reader (listener, timers,
 * database polls) stops with it. The operation itself never depends on its readers.
 */
export function toRpcEvents(events: Observable<MessageEvent>, connection: RpcConnection): Observable<OperationEventMessage> {
  return events.pipe(
    filter((message) => message.type !== undefined && message.id !== undefined),
    map((message) => ({ id: Number(message.id), event: message.type as OperationEventType, data: message.data })),
    takeUntil(connection.closed),
  );
}
