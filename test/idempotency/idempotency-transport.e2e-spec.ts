// `idempotencyKey` on the TCP transport's servers.exec, operations.start and operations.batch: the
// same mechanism as REST's Idempotency-Key. A replay is the same reply (or RPC error) as the first;
// a pattern without keys refuses the field.
import { randomUUID } from 'node:crypto';
import { sshServerBody } from '../support/ssh-servers.js';
import { FakeControlScripts } from '../transport/fake-control-scripts.js';
import { rpcError, startTransportFixture, type TransportFixture } from '../transport/rpc-peers.js';
import { HostMark } from './idempotency-host.js';

describe('idempotencyKey over the internal TCP transport (real sshd)', () => {
  let fixture: TransportFixture;
  const marks: HostMark[] = [];
  const scripts = new FakeControlScripts();
  const mark = () => {
    const created = new HostMark();
    marks.push(created);
    return created;
  };
  const failure = (promise: Promise<unknown>) => promise.then((reply) => ({ reply }), (error: unknown) => ({ error }));

  beforeAll(async () => {
    fixture = await startTransportFixture('127.0.0.72');
  });
  afterAll(async () => {
    marks.forEach((m) => m.cleanup());
    await fixture?.close();
  });

  it('servers.exec: a repeat with the same key runs nothing and gets the same reply; another body is IDEMPOTENCY_KEY_REUSED', async () => {
    const host = mark();
    const idempotencyKey = randomUUID();
    const payload = { id: fixture.id, command: host.command('; echo hi'), idempotencyKey };
    const first = await fixture.rpc.call('servers.exec', payload);
    expect(first).toMatchObject({ exitCode: 0, stdout: 'hi\n' });
    await expect(fixture.rpc.call('servers.exec', payload)).resolves.toEqual(first);
    await expect(fixture.rpc.call('servers.exec', { ...payload, timeoutMs: 5000 })).rejects.toEqual(rpcError(422, 'IDEMPOTENCY_KEY_REUSED'));
    expect(host.runs()).toBe(1);
    // The key is not part of the body: the same command without it is a new request and runs.
    await fixture.rpc.call('servers.exec', { id: fixture.id, command: host.command('; echo hi') });
    expect(host.runs()).toBe(2);
  });

  it('servers.exec: an error reply (EXEC_TIMEOUT) is replayed as the same RPC error, correlation id included', async () => {
    const host = mark();
    const payload = { id: fixture.id, command: host.command('; sleep 5'), timeoutMs: 300, idempotencyKey: randomUUID() };
    const first = await failure(fixture.rpc.call('servers.exec', payload));
    expect(first).toEqual({ error: rpcError(504, 'EXEC_TIMEOUT') });
    await expect(failure(fixture.rpc.call('servers.exec', payload))).resolves.toEqual(first);
    expect(host.runs()).toBe(1);
  });

  it('operations.start and operations.batch: a repeat is the same reply, one operation', async () => {
    const server = async () => (await fixture.t.api.post('/api/servers').send(sshServerBody(fixture.sshd, fixture.user, { controlScript: scripts.quick() })).expect(201)).body.id as string;
    const [one, two] = [await server(), await server()];
    const start = { id: one, action: 'validate', idempotencyKey: randomUUID() };
    const started = await fixture.rpc.call('operations.start', start);
    await expect(fixture.rpc.call('operations.start', start)).resolves.toEqual(started);
    const batch = { serverIds: [two], action: 'stop', idempotencyKey: randomUUID() };
    const batched = await fixture.rpc.call('operations.batch', batch);
    await expect(fixture.rpc.call('operations.batch', batch)).resolves.toEqual(batched);
    for (const id of [one, two]) expect((await fixture.t.api.get(`/api/servers/${id}/operations`).expect(200)).body.total).toBe(1);
  });

  it('refuses a malformed idempotencyKey, and the field on a pattern that takes none, with 400 VALIDATION_FAILED', async () => {
    const host = mark();
    for (const idempotencyKey of ['', 'a b', 42, 'x'.repeat(256)]) {
      await expect(fixture.rpc.call('servers.exec', { id: fixture.id, command: host.command(), idempotencyKey })).rejects.toEqual(
        rpcError(400, 'VALIDATION_FAILED', { details: [{ field: 'idempotencyKey', messages: [expect.any(String)] }] }),
      );
    }
    await expect(fixture.rpc.call('servers.get', { id: fixture.id, idempotencyKey: randomUUID() })).rejects.toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    expect(host.runs()).toBe(0);
  });
});
