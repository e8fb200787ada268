// The internal TCP listener under hostile clients, against the built service (dist/main.js): idle
// connections, the connection cap, frames in flight per connection.
import { ServiceProcess } from '../support/service-process.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/sshd.js';
import { frame, within } from '../transport/rpc-peers.js';
import { idlePeers, openFds, peer, releaseInTurn, SilentSshHosts, silentServers } from './edge-peers.js';

async function startWithTcp(env: Record<string, string>): Promise<{ service: ServiceProcess; tcpPort: number }> {
  const tcpPort = await freePort();
  return { service: await ServiceProcess.start({ INTERNAL_TCP_PORT: String(tcpPort), ...env }), tcpPort };
}

describe('TCP edge: frames in flight', () => {
  let service: ServiceProcess;
  let tcpPort: number;
  let silent: SilentSshHosts;

  beforeAll(async () => {
    silent = await SilentSshHosts.start(9);
    ({ service, tcpPort } = await startWithTcp({ CONNECTION_MAX_IN_FLIGHT: '3', SSH_READY_TIMEOUT_MS: '20000' }));
  });
  afterAll(async () => {
    await service?.stop();
    await silent?.stop();
  });

  it('runs at most CONNECTION_MAX_IN_FLIGHT requests of one connection at once, and answers them all', async () => {
    const ids: string[] = [];
    for (const body of silentServers(silent)) ids.push((await service.api<{ id: string }>('POST', '/api/servers', body)).id);
    const client = await peer(tcpPort);
    let text = '';
    client.socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const frames = ids.map((id, n) => frame({ pattern: { cmd: 'servers.exec' }, data: { token: service.token, id, command: 'true' }, id: `m${n}` }));
    client.socket.write(frames.join(''));
    const replies = () => text.match(/"isDisposed":true/g)?.length ?? 0;
    await releaseInTurn(silent, 9, 3);
    await eventually(() => `9 replies; got ${replies()}`, () => replies() === 9, 15_000);
    client.socket.destroy();
    expect({ accepted: silent.accepted, maxConcurrent: silent.maxOpen }).toEqual({ accepted: 9, maxConcurrent: 3 });
  });
});

describe('TCP edge: idle connections and the connection cap', () => {
  it('closes a connection that sends nothing, and one that stops after half a frame', async () => {
    const { service, tcpPort } = await startWithTcp({ CONNECTION_IDLE_TIMEOUT_MS: '500' });
    try {
      const silentClient = await peer(tcpPort);
      const halfway = await peer(tcpPort);
      halfway.socket.write('120#{"pattern":');
      await within(Promise.all([silentClient.closed, halfway.closed]), 10_000, 'the service to close idle connections');
    } finally {
      await service.stop();
    }
  });

  it('refuses connections over INTERNAL_TCP_MAX_CONNECTIONS without holding a descriptor for them', async () => {
    const { service, tcpPort } = await startWithTcp({ INTERNAL_TCP_MAX_CONNECTIONS: '10', CONNECTION_IDLE_TIMEOUT_MS: '60000' });
    try {
      const before = openFds(service.pid);
      const held = await idlePeers(tcpPort, 10);
      const over = await idlePeers(tcpPort, 10);
      await within(Promise.all(over.map((p) => p.closed)), 5_000, 'connections over the cap to be closed');
      expect(openFds(service.pid) - before).toBeLessThan(10 + 5);
      expect(held.filter((p) => p.socket.destroyed)).toEqual([]);
      expect((await fetch(`${service.base}/health/live`)).status).toBe(200);
      for (const p of held) p.socket.destroy();
    } finally {
      await service.stop();
    }
  });
});
