// A small Server-Sent Events client for the specs (node:http, no dependency): GET with a bearer token
// and an optional Last-Event-ID, frames parsed per the WHATWG event-stream rules.
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

/** One dispatched event as the spec's frames carry it, before the tests' own typing. */
export interface SseFrame {
  /** The last `id:` seen (the spec's "last event ID" carries over to later events), or undefined. */
  id: string | undefined;
  /** `event:` value, `message` when absent. */
  event: string;
  /** `data:` lines joined with "\n". */
  data: string;
}

export interface SseEvent<T = unknown> {
  id: number;
  event: string;
  data: T;
  /** performance.now() when the frame was complete. */
  receivedAt: number;
}

/**
 * Incremental event-stream parser: feed decoded text in any chunking, get complete frames. Lines end
 * at CRLF, LF or CR (a CR at the end of one chunk and an LF at the start of the next are one ending);
 * `:` lines are comments; one space after the colon is dropped; a frame without data is not dispatched.
 */
export class SseParser {
  private buffer = '';
  private pendingCr = false;
  private lastId: string | undefined;
  private event = '';
  private data: string[] = [];

  push(text: string): SseFrame[] {
    if (text === '') return [];
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const frames: SseFrame[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A trailing CR may be the first half of a CRLF split across chunks: take the line, skip a leading LF next time.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) this.pendingCr = true;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const frame = this.line(line);
      if (frame) frames.push(frame);
    }
    return frames;
  }

  private line(line: string): SseFrame | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    return undefined; // `retry` and unknown fields are ignored
  }

  private dispatch(): SseFrame | undefined {
    const frame = this.data.length > 0 ? { id: this.lastId, event: this.event || 'message', data: this.data.join('\n') } : undefined;
    this.event = '';
    this.data = [];
    return frame;
  }
}

export interface SseOptions {
  token?: string;
  lastEventId?: string | number;
}

/** An open GET: status and headers at once; events (200) or the JSON body (anything else) as they come. */
export class SseConnection {
  private readonly queue: SseEvent[] = [];
  private waiter: (() => void) | undefined;
  private finished = false;
  private failure: Error | undefined;
  private text = '';

  constructor(
    private readonly res: IncomingMessage,
    private readonly closeRequest: () => void,
  ) {
    const parser = new SseParser();
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (res.statusCode !== 200) return void (this.text += chunk);
      try {
        for (const frame of parser.push(chunk)) this.queue.push(toEvent(frame));
        this.wake();
      } catch (err) {
        this.close(err as Error); // not an event stream this client understands: fail the reader
      }
    });
    res.on('end', () => this.finish());
    // Closed without the chunked terminator: the server dropped the stream rather than ending it.
    res.on('close', () => this.finish(res.complete ? undefined : new Error('the response was aborted before it ended')));
    res.on('error', (err) => this.finish(err));
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }
  get headers(): IncomingHttpHeaders {
    return this.res.headers;
  }

  /** The next event; undefined once the server ended the response and every event was read. */
  async next(timeoutMs = 20_000): Promise<SseEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0 && !this.finished) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no SSE event within ${timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    if (this.queue.length > 0) return this.queue.shift();
    if (this.failure) throw this.failure;
    return undefined;
  }

  /** The parsed JSON body of a non-200 answer, once it ended. */
  async body(timeoutMs = 10_000): Promise<unknown> {
    while (await this.next(timeoutMs)) {
      // a 200 has no JSON body: drain its events
    }
    return this.text ? JSON.parse(this.text) : undefined;
  }

  /** Disconnects (the client side of "a client that disconnects"). */
  close(err?: Error): void {
    this.closeRequest();
    this.finish(err);
  }

  /** True once the server ended the response (or the client closed it). */
  get ended(): boolean {
    return this.finished;
  }

  private finish(err?: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = err;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}

function toEvent(frame: SseFrame): SseEvent {
  const id = Number(frame.id);
  if (frame.id === undefined || !Number.isInteger(id)) throw new Error(`SSE frame without a numeric id: ${JSON.stringify(frame)}`);
  return { id, event: frame.event, data: JSON.parse(frame.data) as unknown, receivedAt: performance.now() };
}

/** GET `url` as an event stream; resolves once the status line and headers arrived. */
export function openSse(url: string, options: SseOptions = {}): Promise<SseConnection> {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.lastEventId !== undefined) headers['last-event-id'] = String(options.lastEventId);
  return new Promise((resolve, reject) => {
    // A connection of its own, closed with the response: an idle keep-alive socket would hold a closing
    // server open for its keepAliveTimeout (5 s) after the stream ended.
    const req = request(url, { headers, agent: false });
    req.once('response', (res) => resolve(new SseConnection(res, () => req.destroy())));
    req.once('error', reject);
    req.end();
  });
}

/**
 * Every event until the server ends the response (rejects if that takes longer than `timeoutMs`, with
 * what arrived so far). The caller asserts that the last one is `done`.
 */
export async function collectUntilEnd(conn: SseConnection, timeoutMs = 20_000): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    const event = await conn.next(Math.max(left, 0)).catch((err: Error) => {
      throw new Error(`${err.message}; got ${events.length} events: ${JSON.stringify(events.slice(-5))}`);
    });
    if (!event) return events;
    events.push(event);
  }
}

/** The first `n` events, then disconnects. */
export async function takeThenClose(conn: SseConnection, n: number, timeoutMs = 20_000): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  try {
    while (events.length < n) {
      const event = await conn.next(timeoutMs);
      if (!event) throw new Error(`stream ended after ${events.length} of ${n} events`);
      events.push(event);
    }
    return events;
  } finally {
    conn.close();
  }
}
