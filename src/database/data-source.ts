import { DataSource, type DataSourceOptions } from 'typeorm';

/** The PostgreSQL advisory lock every replica of this service takes while it migrates (any constant). */
const MIGRATION_LOCK_ID = 1_764_150_000;

/**
 * Connects and brings the schema up to date before anything uses it. If migrating fails the
 * connections are closed again, so a retry (TypeOrmModule's retryAttempts) starts clean.
 */
export async function openDataSource(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = await new DataSource(options).initialize();
  try {
    await runMigrations(dataSource);
    return dataSource;
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}

/**
 * Runs pending migrations in one transaction. On PostgreSQL, replicas that start together take turns
 * under a session advisory lock: the later one finds the work done instead of failing on CREATE TABLE.
 */
async function runMigrations(dataSource: DataSource): Promise<void> {
  if (dataSource.options.type !== 'postgres') {
    await dataSource.runMigrations({ transaction: 'all' });
    return;
  }
  const lockHolder = dataSource.createQueryRunner();
  try {
    await lockHolder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      await dataSource.runMigrations({ transaction: 'all' });
    } finally {
      await lockHolder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    await lockHolder.release();
  }
}
