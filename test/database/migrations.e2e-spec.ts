import type { DataSource } from 'typeorm';
import { openDataSource } from '../../src/database/data-source.js';
import { dataSourceOptions, MIGRATIONS } from '../../src/database/database-options.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../support/databases.js';

describe.each(DATABASE_KINDS)('migrations at start (%s)', (kind) => {
  let db: TestDatabase;
  const opened: DataSource[] = [];

  const start = async () => {
    const source = await openDataSource(dataSourceOptions(db.url));
    opened.push(source);
    return source;
  };

  beforeEach(async () => {
    db = await createTestDatabase(kind);
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((source) => source.destroy()));
    await db.drop();
  });

  it('creates the schema once; a restart finds nothing to do', async () => {
    await start();
    const restarted = await start();
    expect(await restarted.showMigrations()).toBe(false);
    expect(await db.rows('migrations')).toHaveLength(MIGRATIONS.length);
    expect(await db.rows('servers')).toEqual([]);
    expect(await db.rows('host_keys')).toEqual([]);
  });
});

describe('migrations on PostgreSQL with replicas starting together', () => {
  let db: TestDatabase;
  const opened: DataSource[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await Promise.all(opened.map((source) => source.destroy()));
    await db?.drop();
  });

  it('lets every replica start and runs each migration once', async () => {
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => openDataSource(dataSourceOptions(db.url))));
    for (const result of results) if (result.status === 'fulfilled') opened.push(result.value);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(await db.rows('migrations')).toHaveLength(MIGRATIONS.length);
  });
});
