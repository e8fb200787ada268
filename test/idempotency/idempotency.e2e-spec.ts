// Idempotency keys on the REST routes (issue 14), against real sshd on SQLite and PostgreSQL: a
// repeat runs nothing (counted on the host) and gets the first answer, errors included; a key in use
// is 409, a key reused for another request 422; keys belong to one token; expired keys run again;
// a key whose replica died answers SSH_OUTCOME_UNKNOWN for good.
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { IdempotencyKeyEntity } from '../../src/idempotency/idempotency-key.entity.js';
import { IdempotencyClock, IdempotencyService } from '../../src/idempotency/idempotency.service.js';
import { createTestApp, errorBody, TEST_TOKEN, type TestApp } from '../support/app.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../support/databases.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { FakeControlScripts } from '../transport/fake-control-scripts.js';
import { GatedCommand, HostMark } from './idempotency-host.js';

const OTHER_TOKEN = 'e2e-other-token-fedcba9876543210';
const DAY_MS = 86_400_000;

describe.each(DATABASE_KINDS)('Idempotency-Key on REST routes, real sshd (%s)', (kind) => {
  let user: TestUser;
  let sshd: SshdHost;
  let db: TestDatabase;
  let t: TestApp;
  let serverId: string;
  const marks: { cleanup(): void }[] = [];
  const scripts = new FakeControlScripts();

  const mark = () => {
    const created = new HostMark();
    marks.push(created);
    return created;
  };
  const gated = () => {
    const created = new GatedCommand(new HostMark());
    marks.push(created);
    return created;
  };
  const exec = (key: string | null, body: Record<string, unknown>, id = serverId, token = TEST_TOKEN) => {
    const req = t.http.post(`/api/servers/${id}/exec`).auth(token, { type: 'bearer' });
    return (key === null ? req : req.set('Idempotency-Key', key)).send(body);
  };
  const keyRows = async () => (await db.rows('idempotency_keys')).length;

  beforeAll(async () => {
    user = loadTestUser();
    db = await createTestDatabase(kind);
    sshd = await startSshd();
    t = await createTestApp({ DATABASE_URL: db.url, API_TOKENS: `${TEST_TOKEN},${OTHER_TOKEN}` });
    serverId = (await t.api.post('/api/servers').send(sshServerBody(sshd, user)).expect(201)).body.id;
  });
  afterAll(async () => {
    marks.forEach((m) => m.cleanup());
    await t?.close();
    await sshd?.stop();
    await db?.drop();
  });

  it('a repeat runs nothing on the host and gets the same 200 body, with Idempotent-Replayed: true', async () => {
    const host = mark();
    const key = randomUUID();
    const first = await exec(key, { command: host.command('; echo out') }).expect(200);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await exec(key, { command: host.command('; echo out') }).expect(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(first.body).toMatchObject({ exitCode: 0, stdout: 'out\n' });
    // Ids are accepted in any letter case: the same server is the same request.
    const shouting = await exec(key, { command: host.command('; echo out') }, serverId.toUpperCase()).expect(200);
    expect(shouting.headers['idempotent-replayed']).toBe('true');
    expect(host.runs()).toBe(1);
    // Without a key nothing is recorded and every request runs.
    const rows = await keyRows();
    await exec(null, { command: host.command() }).expect(200);
    await exec(null, { command: host.command() }).expect(200);
    expect(host.runs()).toBe(3);
    expect(await keyRows()).toBe(rows);
  });

  it('the same key with another body or on another route is 422 IDEMPOTENCY_KEY_REUSED and runs nothing', async () => {
    const host = mark();
    const key = randomUUID();
    await exec(key, { command: host.command() }).expect(200);
    const other = await exec(key, { command: host.command(), timeoutMs: 5000 }).expect(422);
    expect(other.body).toEqual(errorBody(422, 'IDEMPOTENCY_KEY_REUSED'));
    const otherServer = (await t.api.post('/api/servers').send(sshServerBody(sshd, user)).expect(201)).body.id as string;
    await exec(key, { command: host.command() }, otherServer).expect(422);
    await t.api.post(`/api/servers/${serverId}/actions/validate`).set('Idempotency-Key', key).expect(422);
    expect(host.runs()).toBe(1);
  });

  it('keys belong to one token: another token with the same key runs its own request', async () => {
    const host = mark();
    const key = randomUUID();
    await exec(key, { command: host.command() }).expect(200);
    const theirs = await exec(key, { command: host.command() }, serverId, OTHER_TOKEN).expect(200);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect((await exec(key, { command: host.command() }, serverId, OTHER_TOKEN).expect(200)).headers['idempotent-replayed']).toBe('true');
    expect(host.runs()).toBe(2);
    const stored = JSON.stringify(await db.rows('idempotency_keys'));
    expect(stored).not.toContain(TEST_TOKEN);
    expect(stored).not.toContain(OTHER_TOKEN);
  });

  it('a repeat while the first still runs is 409 IDEMPOTENCY_KEY_IN_PROGRESS; once it answered, the repeat replays it', async () => {
    const command = gated();
    const key = randomUUID();
    // then(): supertest sends only once awaited.
    const first = exec(key, { command: command.command }).then((res) => res);
    await command.running();
    const busy = await exec(key, { command: command.command }).expect(409);
    expect(busy.body).toEqual(errorBody(409, 'IDEMPOTENCY_KEY_IN_PROGRESS'));
    command.release();
    const answered = await first;
    expect(answered.status).toBe(200);
    const replayed = await exec(key, { command: command.command }).expect(200);
    expect(replayed.body).toEqual(answered.body);
    expect(command.mark.runs()).toBe(1);
  });

  it('an error answer (504 EXEC_TIMEOUT) is stored and replayed as it was, never run again', async () => {
    const host = mark();
    const key = randomUUID();
    const body = { command: host.command('; sleep 5'), timeoutMs: 300 };
    const first = await exec(key, body).expect(504);
    expect(first.body).toMatchObject(errorBody(504, 'EXEC_TIMEOUT'));
    const again = await exec(key, body).expect(504);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(host.runs()).toBe(1);
  });

  it('refuses a malformed Idempotency-Key with 400 VALIDATION_FAILED naming it, and records nothing', async () => {
    const host = mark();
    const rows = await keyRows();
    for (const bad of ['has space', 'x'.repeat(256), 'tab\tkey', 'é']) {
      const res = await exec(bad, { command: host.command() }).expect(400);
      expect(res.body).toEqual({ ...errorBody(400, 'VALIDATION_FAILED'), details: [{ field: 'Idempotency-Key', messages: [expect.any(String)] }] });
    }
    await exec('x'.repeat(255), { command: host.command() }).expect(200);
    expect(host.runs()).toBe(1);
    expect(await keyRows()).toBe(rows + 1);
  });

  it('an expired key runs again, and the scheduled cleanup prunes expired keys', async () => {
    const host = mark();
    const key = randomUUID();
    await exec(key, { command: host.command() }).expect(200);
    const clock = t.app.get(IdempotencyClock);
    const later = new Date(Date.now() + DAY_MS + 60_000);
    clock.now = () => later;
    try {
      const rerun = await exec(key, { command: host.command() }).expect(200);
      expect(rerun.headers['idempotent-replayed']).toBeUndefined();
      expect(host.runs()).toBe(2);
      expect((await exec(key, { command: host.command() }).expect(200)).headers['idempotent-replayed']).toBe('true');
    } finally {
      clock.now = IdempotencyClock.prototype.now;
    }

    const service = t.app.get(IdempotencyService);
    await expect(service.cleanup(new Date(Date.now() + DAY_MS - 60_000))).resolves.toBe(0);
    expect(await service.cleanup(new Date(later.getTime() + DAY_MS + 1000))).toBeGreaterThan(0);
    expect(await keyRows()).toBe(0);
  });

  it('actions and batch: a repeat is the same 202 with the same operationId, and starts one operation', async () => {
    const server = async () => (await t.api.post('/api/servers').send(sshServerBody(sshd, user, { controlScript: scripts.quick() })).expect(201)).body.id as string;
    const [one, two] = [await server(), await server()];
    const key = randomUUID();
    const first = await t.api.post(`/api/servers/${one}/actions/validate`).set('Idempotency-Key', key).expect(202);
    const again = await t.api.post(`/api/servers/${one}/actions/validate`).set('Idempotency-Key', key).send({}).expect(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);

    const batchKey = randomUUID();
    const batch = await t.api.post('/api/operations/batch').set('Idempotency-Key', batchKey).send({ serverIds: [two], action: 'stop' }).expect(202);
    // Key order does not matter: the same body.
    const batchAgain = await t.api.post('/api/operations/batch').set('Idempotency-Key', batchKey).send({ action: 'stop', serverIds: [two] }).expect(202);
    expect(batchAgain.headers['idempotent-replayed']).toBe('true');
    expect(batchAgain.body).toEqual(batch.body);
    for (const id of [one, two]) expect((await t.api.get(`/api/servers/${id}/operations`).expect(200)).body.total).toBe(1);
  });

  it('a key left in progress by a replica that is gone answers 502 SSH_OUTCOME_UNKNOWN for good, and never runs again', async () => {
    const command = gated();
    const key = randomUUID();
    const first = exec(key, { command: command.command }).then((res) => res);
    await command.running();
    // What a dead replica leaves: its row in progress, its lease run out, nobody renewing it.
    await t.app.get(DataSource).getRepository(IdempotencyKeyEntity).update({ key }, { ownerId: randomUUID(), leaseExpiresAt: new Date(Date.now() - 1000) });
    const lost = await exec(key, { command: command.command }).expect(502);
    expect(lost.body).toEqual(errorBody(502, 'SSH_OUTCOME_UNKNOWN'));
    expect(lost.headers['idempotent-replayed']).toBe('true');
    command.release();
    expect((await first).status).toBe(200);
    const later = await exec(key, { command: command.command }).expect(502);
    expect(later.body).toEqual(lost.body);
    expect(command.mark.runs()).toBe(1);
  });
});
