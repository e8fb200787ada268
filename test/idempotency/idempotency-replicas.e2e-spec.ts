// Two app instances on one PostgreSQL database given the same Idempotency-Key at the same moment:
// the database's primary key lets exactly one of them run the command (counted on the host).
import { randomBytes, randomUUID } from 'node:crypto';
import { createTestApp, errorBody, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { GatedCommand, HostMark } from './idempotency-host.js';

/** Replicas share the key that seals stored secrets, as they must in production. */
const CREDENTIALS_KEY = randomBytes(32).toString('base64');

describe('Idempotency-Key across two instances on one PostgreSQL database', () => {
  let user: TestUser;
  let sshd: SshdHost;
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let serverId: string;
  const commands: GatedCommand[] = [];

  beforeAll(async () => {
    user = loadTestUser();
    sshd = await startSshd({ address: '127.0.0.71' });
    db = await createTestDatabase('postgres');
    [a, b] = await Promise.all([createTestApp({ DATABASE_URL: db.url, CREDENTIALS_KEY }), createTestApp({ DATABASE_URL: db.url, CREDENTIALS_KEY })]);
    serverId = (await a.api.post('/api/servers').send(sshServerBody(sshd, user)).expect(201)).body.id;
  });
  afterAll(async () => {
    commands.forEach((c) => c.cleanup());
    await Promise.all([a?.close(), b?.close()]);
    await sshd?.stop();
    await db?.drop();
  });

  it('the same key sent to both at once runs once: one runs it, the other answers 409, and both replay it afterwards', async () => {
    for (let round = 0; round < 5; round++) {
      const command = new GatedCommand(new HostMark());
      commands.push(command);
      const key = randomUUID();
      const send = (t: TestApp) => t.api.post(`/api/servers/${serverId}/exec`).set('Idempotency-Key', key).send({ command: command.command }).then((res) => res);
      const both = Promise.all([send(a), send(b)]);
      await command.running();
      command.release();
      const answers = await both;
      expect(answers.map((res) => res.status).sort()).toEqual([200, 409]);
      expect(answers.find((res) => res.status === 409)?.body).toEqual(errorBody(409, 'IDEMPOTENCY_KEY_IN_PROGRESS'));
      const ran = answers.find((res) => res.status === 200)!;
      for (const t of [a, b]) {
        const replay = await send(t);
        expect({ status: replay.status, replayed: replay.headers['idempotent-replayed'], body: replay.body }).toEqual({ status: 200, replayed: 'true', body: ran.body });
      }
      expect(command.mark.runs()).toBe(1);
    }
  });
});
