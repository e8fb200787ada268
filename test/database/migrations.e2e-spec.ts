import type { DataSource } from 'typeorm';
import { openDataSource } from '../../src/database/data-source.js';
import { dataSourceOptions, MIGRATIONS } from '../../src/database/database-options.js';
import { createTestDatabase, DATABASE_KINDS, type DatabaseKind, type TestDatabase } from '../support/databases.js';

/** A fresh database for each test, and `start()` to open the service's data source on it (closed after). */
function freshDatabase(kind: DatabaseKind) {
  let db: TestDatabase;
  const opened: DataSource[] = [];
  beforeEach(async () => {
    db = await createTestDatabase(kind);
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((source) => source.destroy()));
    await db.drop();
  });
  return {
    rows: (table: string) => db.rows(table),
    start: async () => {
      const source = await openDataSource(dataSourceOptions(db.url));
      opened.push(source);
      return source;
    },
  };
}

describe.each(DATABASE_KINDS)('migrations at start (%s)', (kind) => {
  const db = freshDatabase(kind);

  it('creates the schema once; a restart finds nothing to do', async () => {
    await db.start();
    const restarted = await db.start();
    expect(await restarted.showMigrations()).toBe(false);
    expect(await db.rows('migrations')).toHaveLength(MIGRATIONS.length);
    expect(await db.rows('servers')).toEqual([]);
    expect(await db.rows('host_keys')).toEqual([]);
  });
});

describe('migrations on PostgreSQL with replicas starting together', () => {
  const db = freshDatabase('postgres');

  it('lets every replica start and runs each migration once', async () => {
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => db.start()));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(await db.rows('migrations')).toHaveLength(MIGRATIONS.length);
  });
});
