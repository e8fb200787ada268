// Section 4: memory per pooled connection. 200 servers with distinct pool keys (13 sshd, each listening
// on 16 loopback addresses), one exec each: RSS and heap of the service before and after, and the
// latency of GET pool/stats with the 200 connections open.
import { ServiceProcess } from '../../test/support/service-process.js';
import { loadTestUser, startSshd, type SshdHost } from '../../test/support/sshd.js';
import { freePort } from '../../test/support/sshd.js';
import { median } from '../stats.js';
import { addServer, exec, f1, f2, leftConnections, limited, percentile, pick, sleep, timed } from './common.js';

const ADDRESSES_PER_SSHD = 16; // OpenSSH listens on at most 16 sockets

async function heapUsed(service: ServiceProcess): Promise<number> {
  const text = await fetch(`${service.base}/metrics`).then((r) => r.text());
  return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? NaN);
}

/** sshd i listens on 127.0.<10+i>.1 (its own port) and .2…16 (one more port): every address is a distinct pool key. */
async function hosts(count: number): Promise<{ sshds: SshdHost[]; targets: { sshd: SshdHost; host: string; port: number }[] }> {
  const sshds: SshdHost[] = [];
  const targets: { sshd: SshdHost; host: string; port: number }[] = [];
  for (let i = 0; targets.length < count; i++) {
    const net = `127.0.${10 + i}`;
    const port = await freePort(`${net}.1`);
    const extra = Array.from({ length: ADDRESSES_PER_SSHD - 1 }, (_, a) => `ListenAddress ${net}.${a + 2}:${port}`);
    const sshd = await startSshd({ address: `${net}.1`, extraConfig: extra });
    sshds.push(sshd);
    for (let a = 1; a <= ADDRESSES_PER_SSHD && targets.length < count; a++) targets.push({ sshd, host: `${net}.${a}`, port: a === 1 ? sshd.port : port });
  }
  return { sshds, targets };
}

export async function memorySection(): Promise<{ perConnectionKiB: number; markdown: string }> {
  const count = pick(200, 40);
  const user = loadTestUser();
  const { sshds, targets } = await hosts(count);
  const service = await ServiceProcess.start({ POOL_IDLE_TIMEOUT_S: '3600' });
  try {
    const ids = await limited(8, targets.map((t) => () => addServer(service, t.sshd, user, t)));
    await exec(service, ids[0]); // loads the SSH code paths once, outside the difference
    await service.api('POST', '/api/server-status/pool/close-all');
    await sleep(500);
    const before = { rss: service.rssBytes(), heap: await heapUsed(service) };
    const results = await limited(16, ids.map((id) => () => exec(service, id)));
    const failed = results.filter((r) => r.status !== 200).length;
    if (failed) console.error('memory section: first failure', JSON.stringify(results.find((r) => r.status !== 200)));
    await sleep(500);
    const after = { rss: service.rssBytes(), heap: await heapUsed(service) };
    const open = sshds.reduce((sum, h) => sum + h.openConnections(), 0);
    const stats = [];
    for (let i = 0; i < pick(200, 40); i++) stats.push(await timed(() => service.api('GET', '/api/server-status/pool/stats')));
    const conns = await timed(() => service.api('GET', '/api/server-status/pool/connections'));
    await service.api('POST', '/api/server-status/pool/close-all');
    const left = await leftConnections(sshds);
    const kib = (bytes: number) => bytes / 1024 / count;
    const perConnectionKiB = kib(after.rss - before.rss);
    return {
      perConnectionKiB,
      markdown: [
        `${count} servers with distinct pool keys (${sshds.length} sshd × up to ${ADDRESSES_PER_SSHD} addresses), one exec each (${failed} failed); open at sshd: ${open}; left after close-all: ${left}.`,
        '',
        '| | before | after | per connection |',
        '|---|---|---|---|',
        `| RSS (/proc) | ${f1(before.rss / 2 ** 20)} MiB | ${f1(after.rss / 2 ** 20)} MiB | ${f1(perConnectionKiB)} KiB |`,
        `| V8 heap used (/metrics, no forced GC) | ${f1(before.heap / 2 ** 20)} MiB | ${f1(after.heap / 2 ** 20)} MiB | ${f1(kib(after.heap - before.heap))} KiB |`,
        '',
        `With them open: \`GET …/pool/stats\` median ${f2(median(stats))} ms, p99 ${f2(percentile(stats, 99))} ms (${stats.length} sequential calls); \`GET …/pool/connections\` ${f2(conns)} ms.`,
      ].join('\n'),
    };
  } finally {
    await service.stop();
    await Promise.all(sshds.map((h) => h.stop()));
  }
}
