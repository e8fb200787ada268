import { createServer, type Server, type Socket } from 'node:net';
import { PgNotifyListener } from './pg-notify-listener.js';

/** A port that accepts and at once closes every connection, counting them: a database that is not there. */
async function refusingPort(): Promise<{ port: number; attempts: () => number; close: () => Promise<void> }> {
  let attempts = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    attempts++;
    sockets.add(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { port, attempts: () => attempts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('PgNotifyListener', () => {
  it('does not throw when the database is unreachable, keeps retrying with backoff, and stops retrying on stop', async () => {
    const db = await refusingPort();
    let listening = 0;
    const listener = new PgNotifyListener({
      url: `postgres://nobody:secret@127.0.0.1:${db.port}/none`,
      channel: 'test_channel',
      onNotification: () => undefined,
      onListening: () => listening++,
      retryMs: 20,
      maxRetryMs: 40,
    });
    try {
      await expect(listener.start()).resolves.toBeUndefined();
      expect(listener.listening).toBe(false);
      const deadline = Date.now() + 5000;
      while (db.attempts() < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(db.attempts()).toBeGreaterThanOrEqual(3);
      await listener.stop();
      const stoppedAt = db.attempts();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(db.attempts()).toBe(stoppedAt);
      expect(listening).toBe(0);
    } finally {
      await listener.stop();
      await db.close();
    }
  });
});
