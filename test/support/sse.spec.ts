// The specs' SSE client: the parser on tricky frames and chunkings, the connection against a local server.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from './eventually.js';
import { collectUntilEnd, openSse, SseParser, takeThenClose, type SseFrame } from './sse.js';

/** Every frame of `text` fed in pieces of `size` characters. */
function parseInChunks(text: string, size: number): SseFrame[] {
  const parser = new SseParser();
  const frames: SseFrame[] = [];
  for (let i = 0; i < text.length; i += size) frames.push(...parser.push(text.slice(i, i + size)));
  return frames;
}

describe('SseParser', () => {
  const stream = [
    ': a comment line, then a keep-alive',
    ':',
    'id: 1',
    'event: output',
    'data: {"stream":"stdout",',
    'data:"line":"a: b"}',
    '',
    'retry: 3000',
    'unknown: field',
    'id:2',
    'data',
    '',
    'event: done',
    'data:  two spaces keep one',
    '',
    '',
    'id: 3',
    'event: ignored because no data',
    '',
    'data: inherits id 3, default event',
    '',
  ];
  const expected: SseFrame[] = [
    { id: '1', event: 'output', data: '{"stream":"stdout",\n"line":"a: b"}' },
    { id: '2', event: 'message', data: '' },
    { id: '2', event: 'done', data: ' two spaces keep one' },
    { id: '3', event: 'message', data: 'inherits id 3, default event' },
  ];

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('parses multi-line data, comments, bare fields and id carry-over with %s line endings, in any chunking', (_name, eol) => {
    const text = stream.join(eol) + eol;
    for (const size of [1, 2, 3, 7, text.length]) expect(parseInChunks(text, size)).toEqual(expected);
  });

  it('treats a CR at the end of one chunk and an LF at the start of the next as one line ending', () => {
    const parser = new SseParser();
    expect(parser.push('id: 5\r\ndata: a\r')).toEqual([]);
    // Were the LF a line of its own, it would be a blank line: "a" dispatched alone, "b" in a second frame.
    expect(parser.push('\ndata: b\r')).toEqual([]);
    expect(parser.push('\n\r')).toEqual([{ id: '5', event: 'message', data: 'a\nb' }]);
    expect(parser.push('data: c\n\n')).toEqual([{ id: '5', event: 'message', data: 'c' }]);
  });

  it('keeps an incomplete frame until its blank line arrives, and ignores an id holding NUL', () => {
    const parser = new SseParser();
    expect(parser.push('id: 7\ndata: {"a":1}\n')).toEqual([]);
    expect(parser.push('\nid: 8\0\ndata: 2\n\n')).toEqual([
      { id: '7', event: 'message', data: '{"a":1}' },
      { id: '7', event: 'message', data: '2' },
    ]);
  });

  it('keeps multi-byte text intact: data is whatever the decoder produced', () => {
    expect(parseInChunks('id: 1\ndata: {"line":"Größe ✓"}\n\n', 4)).toEqual([{ id: '1', event: 'message', data: '{"line":"Größe ✓"}' }]);
  });
});

describe('openSse against a local HTTP server', () => {
  let server: Server;
  let base: string;
  let seen: IncomingHttpHeaders[];
  let respond: (res: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      respond(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => (seen = []));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends the token and Last-Event-ID, yields typed events split across writes, and ends with the response', async () => {
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('id: 4\nevent: output\ndata: {"line":');
      setTimeout(() => res.end('"x"}\n\nid: 5\nevent: done\ndata: {"status":"succeeded","exitCode":0}\n\n'), 20);
    };
    const conn = await openSse(`${base}/events`, { token: 'tok', lastEventId: 3 });
    expect([conn.status, conn.headers['content-type']]).toEqual([200, 'text/event-stream']);
    const events = await collectUntilEnd(conn);
    expect(seen[0]).toMatchObject({ authorization: 'Bearer tok', 'last-event-id': '3', accept: 'text/event-stream' });
    expect(events).toEqual([
      { id: 4, event: 'output', data: { line: 'x' }, receivedAt: expect.any(Number) },
      { id: 5, event: 'done', data: { status: 'succeeded', exitCode: 0 }, receivedAt: expect.any(Number) },
    ]);
    expect(conn.ended).toBe(true);
  });

  it('stamps each event when its frame completed, not when the test reads it', async () => {
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('id: 1\nevent: output\ndata: {"line":"a"}\n\n');
      setImmediate(() => res.end('id: 2\nevent: done\ndata: {"status":"succeeded","exitCode":0}\n\n'));
    };
    const conn = await openSse(`${base}/events`);
    await eventually('the response to end', () => conn.ended);
    const readAt = performance.now();
    const events = [await conn.next(), await conn.next()];
    expect(events.map((e) => ({ id: e?.id, beforeRead: e !== undefined && e.receivedAt < readAt }))).toEqual([
      { id: 1, beforeRead: true },
      { id: 2, beforeRead: true },
    ]);
  });

  it('gives the status and JSON body of a non-200 answer, and sends no Last-Event-ID unless asked', async () => {
    respond = (res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ statusCode: 404, code: 'OPERATION_NOT_FOUND' }));
    };
    const conn = await openSse(`${base}/events`);
    expect(conn.status).toBe(404);
    expect(await conn.body()).toEqual({ statusCode: 404, code: 'OPERATION_NOT_FOUND' });
    expect(seen[0]['last-event-id']).toBeUndefined();
    expect(seen[0].authorization).toBeUndefined();
  });

  it('takeThenClose disconnects after n events: the server sees the request close', async () => {
    let closed!: Promise<void>;
    respond = (res) => {
      closed = new Promise((resolve) => res.once('close', () => resolve()));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('id: 1\ndata: 1\n\nid: 2\ndata: 2\n\nid: 3\ndata: 3\n\n'); // and never ends
    };
    const conn = await openSse(`${base}/events`);
    expect((await takeThenClose(conn, 2)).map((e) => e.data)).toEqual([1, 2]);
    await closed;
    expect(conn.ended).toBe(true);
  });

  it('fails the reader when the server drops the stream without ending it, or a timeout passes', async () => {
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('id: 1\ndata: {}\n\n');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    await expect(collectUntilEnd(await openSse(`${base}/events`))).rejects.toThrow(/aborted.*; got 1 events/);

    respond = (res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).flushHeaders();
    const silent = await openSse(`${base}/events`);
    await expect(collectUntilEnd(silent, 100)).rejects.toThrow(/no SSE event within/);
    silent.close();
  });

  it('fails the reader on a frame without a numeric id or with non-JSON data', async () => {
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {}\n\n');
    };
    await expect(collectUntilEnd(await openSse(`${base}/events`))).rejects.toThrow(/without a numeric id/);
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('id: 1\ndata: not json\n\n');
    };
    await expect(collectUntilEnd(await openSse(`${base}/events`))).rejects.toThrow(/JSON/);
  });
});
