import { JsonSocket, type JsonSocketOptions } from '@nestjs/microservices';
import type { Socket } from 'node:net';

/** What one client may hold on the internal TCP listener. */
export interface TcpConnectionLimits {
  maxConnections: number;
  /** A connection with no request running that sends nothing for this long is closed. */
  idleTimeoutMs: number;
  /** Requests (frames with an `id`) of one connection running at once; later frames stay unread. */
  maxInFlight: number;
}

/**
 * JsonSocket's frame loop. While `isBackpressured` is set it stops and leaves the frames after the
 * current one in its buffer; `releaseBackpressure` clears it, resumes the socket and runs the loop.
 * Both are private in Nest's typings; test/edge covers that they keep working.
 */
interface FrameLoop {
  isBackpressured: boolean;
  releaseBackpressure(): void;
}

/** A reply packet as ServerTCP serialises it; the last one of a request carries `isDisposed`. */
interface ReplyPacket {
  id?: unknown;
  isDisposed?: boolean;
}

/**
 * Nest's JSON socket, bounded per connection: at most `maxInFlight` requests run at once (the next
 * frames wait in the socket's buffer, and the socket is not read meanwhile), and a connection with
 * nothing running that sends nothing for `idleTimeoutMs` is closed. Nest's own send-buffer bound
 * (`maxSendBufferSize`) and its pause while the peer does not read still apply.
 */
export class BoundedJsonSocket extends JsonSocket {
  private inFlight = 0;
  private holding = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    socket: Socket,
    options: JsonSocketOptions,
    private readonly limits: TcpConnectionLimits,
  ) {
    super(socket, options);
    // Runs before ServerTCP's handler (registered after this constructor), while the frame loop still runs.
    socket.on('message', (message: { id?: unknown } | null) => this.onFrame(message));
    socket.on('data', () => this.idleTimer?.refresh());
    socket.once('close', () => clearTimeout(this.idleTimer));
    this.armIdleTimer();
  }

  protected override handleSend(message: ReplyPacket, callback?: (err?: unknown) => void): void {
    super.handleSend(message, callback);
    if (message.isDisposed !== true) return;
    this.inFlight--;
    if (this.inFlight === 0) this.armIdleTimer();
    this.release();
  }

  private onFrame(message: { id?: unknown } | null): void {
    if (message?.id === undefined) return;
    this.inFlight++;
    clearTimeout(this.idleTimer);
    if (this.inFlight < this.limits.maxInFlight || this.holding) return;
    this.holding = true;
    (this as unknown as FrameLoop).isBackpressured = true;
    this.socket.pause();
  }

  private release(): void {
    if (!this.holding || this.inFlight >= this.limits.maxInFlight) return;
    this.holding = false;
    const loop = this as unknown as FrameLoop;
    // A peer that does not read keeps the loop stopped until its socket drains, as Nest's own pause does.
    if (this.socket.writableNeedDrain) this.socket.once('drain', () => loop.releaseBackpressure());
    else loop.releaseBackpressure();
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.socket.destroy(), this.limits.idleTimeoutMs);
    this.idleTimer.unref();
  }
}
