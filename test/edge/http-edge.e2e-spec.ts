// The HTTP listener under hostile clients, against the built service (dist/main.js): descriptors,
// idle connections, the connection cap and the health listener, pipelining without reading.
import { ServiceProcess } from '../support/service-process.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/sshd.js';
import { within } from '../transport/rpc-peers.js';
import { getOnce, idlePeers, openFds, peer, pipelined, releaseInTurn, SilentSshHosts, silentServers } from './edge-peers.js';

const MiB = 1024 * 1024;
/** Whether `url` answers 200 within a few seconds (the service notices closed connections asynchronously). */
async function answersSoon(url: string): Promise<boolean> {
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    if (await fetch(url).then((r) => r.ok, () => false)) return true;
  }
  return false;
}
const responsesIn = (text: string) => text.match(/HTTP\/1\.1 \d{3} /g)?.length ?? 0;

describe('HTTP edge: descriptors and pipelining', () => {
  let service: ServiceProcess;
  let silent: SilentSshHosts;

  beforeAll(async () => {
    silent = await SilentSshHosts.start(9);
    service = await ServiceProcess.start({ CONNECTION_MAX_IN_FLIGHT: '3', SSH_READY_TIMEOUT_MS: '20000', CONNECTION_IDLE_TIMEOUT_MS: '500' });
  });
  afterAll(async () => {
    await service?.stop();
    await silent?.stop();
  });

  it('keeps no descriptor of pipelined static files once the client hangs up', async () => {
    const before = openFds(service.pid);
    const client = await peer(service.port);
    client.socket.write(pipelined('/api/docs/swagger-ui-bundle.js', 40));
    await eventually('the first answer to start', () => client.received() > 0);
    await getOnce(`${service.base}/health/live`); // one more turn of the service's event loop
    client.socket.destroy();
    await eventually(() => `descriptors back to ${before}: ${openFds(service.pid)} open`, () => openFds(service.pid) <= before + 1, 10_000);
  });

  it('answers the UI files with their types and validators, and no other file of swagger-ui-dist', async () => {
    const docs = `${service.base}/api/docs`;
    const bundle = await getOnce(`${docs}/swagger-ui-bundle.js`);
    expect([bundle.status, bundle.headers['content-type'], bundle.bytes > 1_000_000]).toEqual([200, 'application/javascript; charset=utf-8', true]);
    expect((await getOnce(`${docs}/swagger-ui-bundle.js`, { 'if-none-match': bundle.headers.etag! })).status).toBe(304);
    expect((await getOnce(`${docs}/swagger-ui.css`)).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await getOnce(`${docs}/favicon-32x32.png`)).headers['content-type']).toBe('image/png');
    expect((await getOnce(`${docs}/swagger-ui-bundle.js.map`)).status).toBe(401);
    expect((await getOnce(`${docs}/swagger-ui-bundle.js.map`, { authorization: `Bearer ${service.token}` })).status).toBe(404);
  });

  it('drops a client that pipelines without reading, having held little for it', async () => {
    const rssBefore = service.rssBytes();
    const fdsBefore = openFds(service.pid);
    const clients = await Promise.all([1, 2, 3, 4].map(() => peer(service.port, { read: false })));
    for (const client of clients) client.socket.write(pipelined('/metrics', 1000));
    // The service's end of each connection is gone (a client that reads nothing never sees the FIN).
    await eventually(() => `the connections dropped: ${openFds(service.pid)} descriptors, ${fdsBefore} before`, () => openFds(service.pid) <= fdsBefore, 15_000);
    expect(service.rssBytes() - rssBefore).toBeLessThan(64 * MiB);
    for (const client of clients) client.socket.destroy();
  });

  it('runs at most CONNECTION_MAX_IN_FLIGHT pipelined requests of one connection at once', async () => {
    const ids: string[] = [];
    for (const body of silentServers(silent)) ids.push((await service.api<{ id: string }>('POST', '/api/servers', body)).id);
    const client = await peer(service.port);
    let text = '';
    client.socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const body = JSON.stringify({ command: 'true' });
    const headers = `Authorization: Bearer ${service.token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n`;
    client.socket.write(ids.map((id) => `POST /api/servers/${id}/exec HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n${body}`).join(''));
    await releaseInTurn(silent, 9, 3);
    await eventually(() => `9 answers; got ${responsesIn(text)}`, () => responsesIn(text) === 9, 15_000);
    client.socket.destroy();
    expect({ accepted: silent.accepted, maxConcurrent: silent.maxOpen }).toEqual({ accepted: 9, maxConcurrent: 3 });
  });

  it('still answers every pipelined request, in order, to a client that reads', async () => {
    const client = await peer(service.port);
    let text = '';
    client.socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    client.socket.write(pipelined('/health/live', 30) + pipelined('/api/docs/swagger-ui.css', 1));
    await eventually(() => `31 answers; got ${responsesIn(text)}`, () => responsesIn(text) === 31);
    expect(text.indexOf('text/css')).toBeGreaterThan(text.lastIndexOf('application/json'));
    client.socket.destroy();
  });
});

describe('HTTP edge: idle connections', () => {
  let service: ServiceProcess;
  let silent: SilentSshHosts;

  beforeAll(async () => {
    silent = await SilentSshHosts.start(1);
    service = await ServiceProcess.start({ CONNECTION_IDLE_TIMEOUT_MS: '500', SSH_READY_TIMEOUT_MS: '2500' });
  });
  afterAll(async () => {
    await service?.stop();
    await silent?.stop();
  });

  it('closes a connection that sends nothing, and one that stops half-way through its headers', async () => {
    const silentClient = await peer(service.port);
    const halfway = await peer(service.port);
    halfway.socket.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await within(Promise.all([silentClient.closed, halfway.closed]), 10_000, 'the service to close idle connections');
  });

  it('does not count a request still running as idle', async () => {
    const [body] = silentServers(silent);
    const { id } = await service.api<{ id: string }>('POST', '/api/servers', body);
    // The exec waits for the silent host until SSH_READY_TIMEOUT_MS (2.5 s), five idle timeouts.
    const answer = await service.request('POST', `/api/servers/${id}/exec`, { command: 'true' });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(silent.accepted).toBe(1);
  });
});

describe('HTTP edge: the connection cap and the health listener', () => {
  let service: ServiceProcess;
  let healthPort: number;

  beforeAll(async () => {
    healthPort = await freePort();
    service = await ServiceProcess.start({ HTTP_MAX_CONNECTIONS: '20', HEALTH_PORT: String(healthPort), CONNECTION_IDLE_TIMEOUT_MS: '60000' });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('refuses connections over HTTP_MAX_CONNECTIONS while /health/live answers on HEALTH_PORT', async () => {
    // The test's own fetch client may keep a connection from start-up open: it counts towards the 20.
    const held = await idlePeers(service.port, 20);
    try {
      const over = await idlePeers(service.port, 5);
      await within(Promise.all(over.map((p) => p.closed)), 5_000, 'connections over the cap to be closed');
      const health = `http://127.0.0.1:${healthPort}`;
      expect((await fetch(`${health}/health/live`)).status).toBe(200);
      expect((await fetch(`${health}/metrics`)).status).toBe(200);
      expect((await fetch(`${health}/api/servers`)).status).toBe(404);
    } finally {
      for (const p of held) p.socket.destroy();
    }
    expect(await answersSoon(`${service.base}/health/live`)).toBe(true);
  });
});
