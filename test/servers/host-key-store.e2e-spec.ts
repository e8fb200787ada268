import type { DataSource } from 'typeorm';
import { openDataSource } from '../../src/database/data-source.js';
import { dataSourceOptions } from '../../src/database/database-options.js';
import { HostKeyEntity } from '../../src/servers/host-key.entity.js';
import { TypeOrmHostKeyStore } from '../../src/servers/typeorm-host-key.store.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../support/databases.js';

const FIRST = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';
const SECOND = 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU';

describe.each(DATABASE_KINDS)('TypeOrmHostKeyStore on migrations (%s)', (kind) => {
  let db: TestDatabase;
  let source: DataSource | undefined;

  const open = async () => {
    source = await openDataSource(dataSourceOptions(db.url));
    return new TypeOrmHostKeyStore(source.getRepository(HostKeyEntity));
  };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterEach(async () => {
    await source?.destroy();
    source = undefined;
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('finds nothing for an unknown host', async () => {
    const store = await open();
    await expect(store.find('10.0.0.1', 22)).resolves.toBeNull();
  });

  it('stores a key per host and port, replaces it on save, and keeps it across a restart', async () => {
    const seen = new Date('2026-01-02T03:04:05.678Z');
    let store = await open();
    await store.save({ host: '10.0.0.1', port: 22, algorithm: 'ssh-ed25519', fingerprint: FIRST, firstSeenAt: seen });
    await store.save({ host: '10.0.0.1', port: 2222, algorithm: 'rsa-sha2-512', fingerprint: SECOND, firstSeenAt: seen });
    const replaced = new Date('2026-02-03T04:05:06.789Z');
    await store.save({ host: '10.0.0.1', port: 22, algorithm: 'ecdsa-sha2-nistp256', fingerprint: SECOND, firstSeenAt: replaced });
    await source?.destroy();

    store = await open();
    await expect(store.find('10.0.0.1', 22)).resolves.toEqual({
      host: '10.0.0.1',
      port: 22,
      algorithm: 'ecdsa-sha2-nistp256',
      fingerprint: SECOND,
      firstSeenAt: replaced,
    });
    await expect(store.find('10.0.0.1', 2222)).resolves.toEqual({ host: '10.0.0.1', port: 2222, algorithm: 'rsa-sha2-512', fingerprint: SECOND, firstSeenAt: seen });
    expect(await db.rows('host_keys')).toHaveLength(2);
  });

  it('ran the schema from migrations, recorded once', async () => {
    await open();
    const migrations = await db.rows('migrations');
    expect(migrations.map((m) => m.name)).toEqual(['InitialSchema1764150000000', 'Operations1764800000000', 'IdempotencyKeys1764900000000', 'OperationCancelRequests1765000000000']);
  });
});
