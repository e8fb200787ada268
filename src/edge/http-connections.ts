import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** What one client may hold on an HTTP listener (EdgeConfig's fields). */
export interface HttpConnectionLimits {
  /** A connection with no request running and no progress on its answers is closed after this long. */
  idleTimeoutMs: number;
  /** Requests of one connection run at once; pipelined ones beyond wait, and the socket stops being read. */
  maxInFlight: number;
}

/**
 * Requests already parsed from the bytes read before the socket paused. More than this waiting on one
 * connection is a client pipelining without reading its answers: it is disconnected.
 */
export const MAX_WAITING_REQUESTS = 64;

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * One connection's requests. Node parses every pipelined request in a chunk at once and would run them
 * all, buffering each answer until the client reads the earlier ones; here they run `maxInFlight` at a
 * time, and only while the socket's own send buffer is below its high-water mark.
 */
class HttpConnection {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private pausedByUs = false;
  private awaitingDrain = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private unsentAtLastCheck = -1;

  constructor(
    private readonly socket: Socket,
    private readonly limits: HttpConnectionLimits,
  ) {
    socket.once('close', () => {
      clearTimeout(this.idleTimer);
      this.waiting.length = 0;
    });
    this.armIdleTimer();
  }

  accept(request: IncomingMessage, response: ServerResponse, run: RequestListener): void {
    if (this.socket.destroyed) return;
    if (this.waiting.length >= MAX_WAITING_REQUESTS) {
      this.socket.destroy();
      return;
    }
    this.waiting.push(() => this.start(request, response, run));
    this.pump();
  }

  private start(request: IncomingMessage, response: ServerResponse, run: RequestListener): void {
    this.running++;
    clearTimeout(this.idleTimer);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.running--;
      this.pump();
    };
    response.once('finish', end);
    response.once('close', end);
    run(request, response);
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.running < this.limits.maxInFlight && !this.socket.writableNeedDrain) {
      this.waiting.shift()!();
    }
    if (this.waiting.length > 0) this.holdReading();
    else this.releaseReading();
    if (this.running === 0) this.armIdleTimer();
  }

  private holdReading(): void {
    if (!this.pausedByUs) {
      this.pausedByUs = true;
      this.socket.pause();
    }
    if (this.socket.writableNeedDrain && !this.awaitingDrain) {
      this.awaitingDrain = true;
      this.socket.once('drain', () => {
        this.awaitingDrain = false;
        this.pump();
      });
    }
  }

  private releaseReading(): void {
    if (!this.pausedByUs) return;
    this.pausedByUs = false;
    this.socket.resume();
  }

  /** Idle: nothing running, and the client read nothing of what is queued for it since the last check. */
  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      const unsent = this.socket.writableLength;
      if (unsent > 0 && unsent !== this.unsentAtLastCheck) {
        this.unsentAtLastCheck = unsent;
        this.armIdleTimer();
        return;
      }
      this.socket.destroy();
    }, this.limits.idleTimeoutMs);
    this.idleTimer.unref();
  }
}

/**
 * Bounds what a client can hold on `server` (the API's listener or the health one): open connections,
 * connections that send nothing, and answers queued by pipelining. Call before `listen`, after the
 * request handler (the Express app) is attached: it is wrapped.
 */
export function guardHttpServer(server: Server, maxConnections: number, limits: HttpConnectionLimits): void {
  server.maxConnections = maxConnections;
  // Node's own check, every 30 s: a backstop behind the idle timer for headers that never complete.
  server.headersTimeout = Math.min(limits.idleTimeoutMs, server.requestTimeout || limits.idleTimeoutMs);
  // Keep-Alive: timeout=… tells clients when an unused connection closes; never later than the idle timer.
  server.keepAliveTimeout = Math.min(server.keepAliveTimeout, limits.idleTimeoutMs);
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const run: RequestListener = (request, response) => {
    for (const listener of listeners) listener.call(server, request, response);
  };
  const connections = new WeakMap<Socket, HttpConnection>();
  server.on('connection', (socket: Socket) => connections.set(socket, new HttpConnection(socket, limits)));
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const connection = connections.get(request.socket);
    if (connection) connection.accept(request, response, run);
    else run(request, response);
  });
}
