// `npm run bench:transport`: round-trip latency of the same operations over HTTP and over the internal
// TCP transport, against the built service (node dist/main.js) and one real sshd: pool.stats (no I/O)
// and an exec of `true` on a pooled connection. Calls alternate between the transports so that both
// see the same machine noise. Prints a markdown table of medians and 90th percentiles.
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { ServiceProcess } from '../test/support/service-process.js';
import { sshServerBody } from '../test/support/ssh-servers.js';
import { freePort, loadTestUser, startSshd } from '../test/support/sshd.js';
import { median, ms } from './stats.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 300);
const WARMUP = 30;

const p90 = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.9)];

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main(): Promise<void> {
  const sshd = await startSshd({ address: '127.0.0.30' });
  const tcpPort = await freePort();
  const service = await ServiceProcess.start({ INTERNAL_TCP_PORT: String(tcpPort) });
  const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: tcpPort } });
  try {
    const http = (method: string, path: string, body?: unknown) => service.api(method, path, body);
    const rpc = (cmd: string, data: Record<string, unknown> = {}) => firstValueFrom(client.send({ cmd }, { token: service.token, ...data }));
    await client.connect();
    const { id } = (await http('POST', '/api/servers', sshServerBody(sshd, loadTestUser()))) as { id: string };

    const operations = {
      'pool.stats': { http: () => http('GET', '/api/server-status/pool/stats'), tcp: () => rpc('pool.stats') },
      'servers.exec `true`': { http: () => http('POST', `/api/servers/${id}/exec`, { command: 'true' }), tcp: () => rpc('servers.exec', { id, command: 'true' }) },
    };
    console.log(`## Internal transport vs HTTP (\`npm run bench:transport\`, ${CALLS} calls each, alternating)\n`);
    console.log('| operation | HTTP median | TCP median | HTTP p90 | TCP p90 |');
    console.log('|---|---|---|---|---|');
    for (const [name, op] of Object.entries(operations)) {
      for (let i = 0; i < WARMUP; i += 1) await Promise.all([op.http(), op.tcp()]);
      const samples = { http: [] as number[], tcp: [] as number[] };
      for (let i = 0; i < CALLS; i += 1) {
        samples.http.push(await timed(op.http));
        samples.tcp.push(await timed(op.tcp));
      }
      console.log(`| ${name} | ${ms(median(samples.http))} | ${ms(median(samples.tcp))} | ${ms(p90(samples.http))} | ${ms(p90(samples.tcp))} |`);
    }
  } finally {
    await client.close();
    await service.stop();
    await sshd.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
