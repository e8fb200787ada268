// The built service killed (SIGKILL) while it runs a request with an Idempotency-Key: the key never
// runs the command again. The next service answers the key 502 SSH_OUTCOME_UNKNOWN: at once on
// SQLite (one replica: the owner is an earlier process), once the dead one's lease ran out on PostgreSQL.
import { randomBytes, randomUUID } from 'node:crypto';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { ServiceProcess } from '../support/service-process.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { GatedCommand, HostMark } from './idempotency-host.js';

const CREDENTIALS_KEY = randomBytes(32).toString('base64');
/** Both processes accept the same token: keys belong to a token. */
const TOKEN = randomBytes(16).toString('hex');
const HEADERS = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

let user: TestUser;
let sshd: SshdHost;

beforeAll(async () => {
  user = loadTestUser();
  sshd = await startSshd({ address: '127.0.0.73' });
});
afterAll(async () => {
  await sshd?.stop();
});

describe.each(DATABASE_KINDS)('a service killed mid-request with an Idempotency-Key (%s)', (kind) => {
  let db: TestDatabase;
  const services: ServiceProcess[] = [];
  const command = new GatedCommand(new HostMark());

  const startService = async () => {
    const service = await ServiceProcess.start({ DATABASE_URL: db.url, CREDENTIALS_KEY, API_TOKENS: TOKEN, OPERATION_LEASE_MS: '1000' });
    services.push(service);
    return service;
  };
  const exec = async (service: ServiceProcess, id: string, key: string) => {
    const res = await fetch(`${service.base}/api/servers/${id}/exec`, {
      method: 'POST',
      headers: { ...HEADERS, 'idempotency-key': key },
      // The shell outlives its SSH session: the command goes on after the service died.
      body: JSON.stringify({ command: `trap '' HUP; ${command.command}` }),
    });
    return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    command.cleanup();
    await Promise.all(services.map((s) => s.stop()));
    await db?.drop();
  });

  it('answers SSH_OUTCOME_UNKNOWN for the key from then on and never runs the command again', async () => {
    const first = await startService();
    const created = await fetch(`${first.base}/api/servers`, { method: 'POST', headers: HEADERS, body: JSON.stringify(sshServerBody(sshd, user)) });
    const { id } = (await created.json()) as { id: string };
    const key = randomUUID();
    const lost = exec(first, id, key).catch(() => null);
    await command.running();
    process.kill(first.pid, 'SIGKILL');
    await first.stop();
    await lost;

    const second = await startService();
    let answer = await exec(second, id, key);
    for (const deadline = Date.now() + 10_000; answer.status === 409 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await exec(second, id, key);
    }
    expect(answer).toEqual({
      status: 502,
      replayed: 'true',
      body: { statusCode: 502, code: 'SSH_OUTCOME_UNKNOWN', message: expect.any(String), correlationId: expect.any(String) },
    });
    command.release();
    await eventually('the first run to finish on the host', () => command.mark.runs() === 1);
    await expect(exec(second, id, key)).resolves.toEqual(answer);
    expect(command.mark.runs()).toBe(1);
  }, 120_000);
});
