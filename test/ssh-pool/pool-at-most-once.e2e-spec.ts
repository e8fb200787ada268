// A command is sent again only when the server provably did not start it: a request written to a
// connection that then died unanswered is 502 SSH_OUTCOME_UNKNOWN, never retried. Runs are counted on
// the host, as lines a command appends to a file.
import { existsSync, readFileSync } from 'node:fs';
import { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import { createTestApp, errorBody, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { startBlackholeProxy, type BlackholeProxy } from '../support/latency-proxy.js';
import { remoteScratchPath, sshServerBody } from '../support/ssh-servers.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { SPARE_MODES } from './spare-modes.js';

/** Pads a command past every ping and channel open, so the blackhole proxy knows its request by size. */
const PADDED_BYTES = 4000;
const padded = (command: string) => `${command} # ${'x'.repeat(PADDED_BYTES)}`;

const runs = (file: string): number => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);

describe.each(SPARE_MODES)('at most once against real sshd (SSH_SPARE_CHANNELS=%s)', (spares) => {
  let user: TestUser;
  let host: SshdHost;
  let proxy: BlackholeProxy;
  let db: TestDatabase;
  let t: TestApp;
  let pool: SshPoolService;

  const createServer = async (overrides: Record<string, unknown> = {}): Promise<string> =>
    (await t.api.post('/api/servers').send(sshServerBody(host, user, overrides)).expect(201)).body.id;
  const exec = (id: string, command: string) => t.api.post(`/api/servers/${id}/exec`).send({ command });
  /** A pooled connection with its spare (when on) ready: the next command goes out on it. */
  const warm = async (id: string) => {
    await exec(id, 'true').expect(200);
    await eventually('the connection to settle', () => pool.getStats().channels_in_use === 0 && pool.getStats().spare_channels === (spares === 'true' ? 1 : 0));
  };

  beforeAll(async () => {
    user = loadTestUser();
    host = await startSshd({ address: '127.0.0.17' });
    proxy = await startBlackholeProxy({ host: host.host, port: host.port });
    db = await createTestDatabase('sqlite');
    t = await createTestApp({ DATABASE_URL: db.url, SSH_SPARE_CHANNELS: spares, SSH_KEEPALIVE_INTERVAL_MS: '1000', SSH_KEEPALIVE_COUNT_MAX: '2' });
    pool = t.app.get(SshPoolService);
  });
  afterAll(async () => {
    host?.thaw();
    await t?.close();
    await proxy?.close();
    await host?.stop();
    await db?.drop();
  });
  afterEach(async () => {
    host.thaw();
    await pool.closeAll();
  });

  it('answers 502 SSH_OUTCOME_UNKNOWN when the request went out on a link that then went silent, and runs it once', async () => {
    const id = await createServer({ host: '127.0.0.1', sshPort: proxy.port });
    await warm(id);
    const file = remoteScratchPath('blackhole');
    proxy.blackholeAfter(PADDED_BYTES);
    const res = await exec(id, padded(`echo ran >> ${file}`));
    expect({ status: res.status, body: res.body }).toEqual({ status: 502, body: errorBody(502, 'SSH_OUTCOME_UNKNOWN') });
    expect(res.body.message).toContain('may have run on the host');
    await eventually('the command that reached sshd to run', () => runs(file) >= 1);
    expect(runs(file)).toBe(1);
    expect(pool.getStats().evictions.dead).toBe(1);
  });

  // A frozen peer's socket keeps what we send. With a spare the exec request is the only packet, so it
  // is in that socket when keepalive gives up: its outcome is unknown. Without spares the channel open
  // never got its answer, so no exec request was sent: that one is safely retried on a fresh connection.
  it('never runs a command twice when keepalive gives up on a frozen peer that got it', async () => {
    const id = await createServer();
    await warm(id);
    const file = remoteScratchPath('frozen');
    host.freeze();
    const res = await exec(id, `echo ran >> ${file}`);
    if (spares === 'true') expect({ status: res.status, body: res.body }).toEqual({ status: 502, body: errorBody(502, 'SSH_OUTCOME_UNKNOWN') });
    else expect(res.status).toBe(200);
    host.thaw();
    // The thawed sshd reads what waited in its socket: with a spare, it runs the request then.
    await eventually('the command to run once', () => runs(file) >= 1);
    await host.waitFor(() => host.openConnections() === (spares === 'true' ? 0 : 1));
    expect(runs(file)).toBe(1);
  });
});
