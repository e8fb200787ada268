import { ConfigService } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import { type AppConfig, validateConfig } from '../config/configuration.js';
import { eventually } from '../../test/support/eventually.js';
import type { IdempotencyKeyEntity } from './idempotency-key.entity.js';
import { parseIdempotencyKey } from './idempotency-key.js';
import { IdempotencyClock, IdempotencyService } from './idempotency.service.js';
import type { IdempotencyStore, StoredAnswer } from './idempotency.store.js';
import { canonicalJson, type IdempotentRequest } from './idempotent-request.js';

/** The store's rules over a Map (one row per caller+key; writes only to in-progress rows), with an outage switch. */
class FakeStore {
  readonly rows = new Map<string, IdempotencyKeyEntity>();
  isPostgres = true;
  /** Throws on this many of the next answer writes (the database is away). */
  failNextWrites = 0;

  async insert(record: IdempotencyKeyEntity): Promise<boolean> {
    if (this.rows.has(`${record.caller}/${record.key}`)) return false;
    this.rows.set(`${record.caller}/${record.key}`, { ...record });
    return true;
  }

  async find(caller: string, key: string): Promise<IdempotencyKeyEntity | null> {
    return this.rows.get(`${caller}/${key}`) ?? null;
  }

  async complete(caller: string, key: string, ownerId: string, answer: StoredAnswer): Promise<boolean> {
    if (this.failNextWrites > 0 && this.failNextWrites--) throw new Error('connection refused');
    const row = this.rows.get(`${caller}/${key}`);
    if (!row || row.ownerId !== ownerId || row.statusCode !== null) return false;
    Object.assign(row, answer);
    return true;
  }

  async renew(): Promise<void> {}
}

const request = (overrides: Partial<IdempotentRequest> = {}): IdempotentRequest => ({
  caller: 'caller',
  key: 'k-1',
  route: 'POST /api/servers/:id/exec',
  requestHash: 'h',
  correlationId: 'corr-1',
  ...overrides,
});

describe('IdempotencyService', () => {
  const maxOutputBytes = 1024;
  let store: FakeStore;
  let service: IdempotencyService;

  beforeEach(() => {
    store = new FakeStore();
    const config = new ConfigService<AppConfig, true>(validateConfig({ SSH_MAX_OUTPUT_BYTES: String(maxOutputBytes) }));
    service = new IdempotencyService(store as unknown as IdempotencyStore, new IdempotencyClock(), new SchedulerRegistry(), config);
  });

  it('runs the first request, replays its answer, refuses another body (422) and a repeat in progress (409)', async () => {
    await expect(service.claim(request())).resolves.toBeNull();
    await expect(service.claim(request())).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_PROGRESS' });
    await service.complete(request(), { status: 200, body: { exitCode: 0, stdout: 'hi\n' } });
    await expect(service.claim(request())).resolves.toEqual({ status: 200, body: { exitCode: 0, stdout: 'hi\n' } });
    await expect(service.claim(request({ requestHash: 'other' }))).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    await expect(service.claim(request({ route: 'POST /api/operations/batch' }))).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    await expect(service.claim(request({ caller: 'someone else' }))).resolves.toBeNull();
  });

  it('stores the largest exec answer as it is, and keeps an answer over the bound as a 500', async () => {
    // Each stream at its cap, every byte a control character JSON escapes as \u00XX (6 bytes).
    const worst = { exitCode: 0, signal: null, stdout: '\u0001'.repeat(maxOutputBytes), stderr: '\u0002'.repeat(maxOutputBytes), durationMs: 1, truncated: true };
    await service.claim(request());
    await service.complete(request(), { status: 200, body: worst });
    await expect(service.claim(request())).resolves.toEqual({ status: 200, body: worst });

    const huge = { stdout: 'x'.repeat(12 * maxOutputBytes + 64 * 1024) };
    await service.claim(request({ key: 'k-2' }));
    await service.complete(request({ key: 'k-2' }), { status: 200, body: huge });
    expect((await store.find('caller', 'k-2'))?.response?.length).toBeLessThan(1000);
    await expect(service.claim(request({ key: 'k-2' }))).resolves.toEqual({
      status: 500,
      body: { statusCode: 500, code: 'INTERNAL_ERROR', message: 'Internal server error', correlationId: 'corr-1' },
    });
  });

  it('keeps trying to store an answer while the database is away, and answers the caller meanwhile', async () => {
    await service.claim(request());
    store.failNextWrites = 1;
    await service.complete(request(), { status: 504, body: { statusCode: 504, code: 'EXEC_TIMEOUT' } });
    await expect(service.claim(request())).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_PROGRESS' });
    await eventually('the answer to be stored', () => store.rows.get('caller/k-1')?.statusCode === 504, 5000);
    await expect(service.claim(request())).resolves.toEqual({ status: 504, body: { statusCode: 504, code: 'EXEC_TIMEOUT' } });
    await service.beforeApplicationShutdown();
  });
});

describe('idempotency keys and request hashes', () => {
  it('accepts 1-255 visible ASCII characters and names the field otherwise', () => {
    expect(parseIdempotencyKey(undefined, 'Idempotency-Key')).toBeNull();
    expect(parseIdempotencyKey('!~' + 'a'.repeat(253), 'Idempotency-Key')).toHaveLength(255);
    for (const bad of ['', ' ', 'a b', 'a'.repeat(256), 'é', '\u0000', 42, ['a']]) {
      expect(() => parseIdempotencyKey(bad, 'idempotencyKey')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', details: [{ field: 'idempotencyKey', messages: [expect.any(String)] }] }));
    }
  });

  it('hashes the same params and body alike whatever the key order, and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
    expect(canonicalJson({ ids: [1, 2] })).not.toBe(canonicalJson({ ids: [2, 1] }));
  });
});
