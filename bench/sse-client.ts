// A minimal Server-Sent Events client over fetch for the operations benchmark: it stamps every event
// with the wall-clock time its chunk arrived, which EventSource-style clients do not expose.

export interface SseEvent {
  id: string;
  event: string;
  data: unknown;
  /** Wall-clock time (ms since the epoch, sub-millisecond) when the chunk holding it was read. */
  receivedAt: number;
}

export interface SseSubscription {
  /** Resolves with every event once the server ends the stream (after `done`). */
  readonly ended: Promise<SseEvent[]>;
  /** Resolves with the first event. */
  readonly first: Promise<SseEvent>;
  close(): void;
}

/**
 * performance.timeOrigin + performance.now(): CLOCK_REALTIME at start plus a monotonic clock, so
 * sub-millisecond like the host's `$EPOCHREALTIME` (Date.now() has 1 ms steps). The bench prints how
 * far it drifted from Date.now() over the run.
 */
export const wallClockMs = (): number => performance.timeOrigin + performance.now();

/** Opens `GET url` as an event stream; rejects `first`/`ended` on any status but 200. */
export function subscribe(url: string, headers: Record<string, string>, lastEventId?: string): SseSubscription {
  const controller = new AbortController();
  const events: SseEvent[] = [];
  let onFirst: (event: SseEvent) => void = () => undefined;
  let failFirst: (error: unknown) => void = () => undefined;
  const first = new Promise<SseEvent>((resolve, reject) => ((onFirst = resolve), (failFirst = reject)));
  const ended = (async () => {
    const res = await fetch(url, { headers: { ...headers, accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, signal: controller.signal });
    if (res.status !== 200 || !res.body) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      const receivedAt = wallClockMs();
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = parseBlock(buffer.slice(0, end), receivedAt);
        buffer = buffer.slice(end + 2);
        if (!event) continue;
        if (events.length === 0) onFirst(event);
        events.push(event);
      }
    }
    return events;
  })();
  ended.catch(failFirst);
  return { ended, first, close: () => controller.abort() };
}

/** One event block (`event:`, `id:`, `data:` lines); null for a comment-only block (keep-alive). */
function parseBlock(block: string, receivedAt: number): SseEvent | null {
  let id = '';
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === 0 || line === '') continue;
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0 && id === '') return null;
  return { id, event, data: JSON.parse(data.join('\n')) as unknown, receivedAt };
}
