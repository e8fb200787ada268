import { dataSourceOptions, sqlitePath } from './database-options.js';
import { isUniqueViolation } from './database-errors.js';

describe('dataSourceOptions', () => {
  it('opens SQLite files and memory through better-sqlite3, never synchronized', () => {
    expect(dataSourceOptions('sqlite:data/cs2-ssh-pool.sqlite')).toMatchObject({
      type: 'better-sqlite3',
      database: 'data/cs2-ssh-pool.sqlite',
      synchronize: false,
      migrationsRun: false,
    });
    expect(dataSourceOptions('sqlite::memory:')).toMatchObject({ type: 'better-sqlite3', database: ':memory:' });
    expect(sqlitePath('sqlite:///var/lib/cs2/db.sqlite')).toBe('/var/lib/cs2/db.sqlite');
  });

  it('passes PostgreSQL URLs through', () => {
    const url = 'postgres://cs2:secret@db:5432/cs2';
    expect(dataSourceOptions(url)).toMatchObject({ type: 'postgres', url, synchronize: false, migrationsRun: false });
  });
});

describe('isUniqueViolation', () => {
  it('recognises both engines by code, not by message', () => {
    expect(isUniqueViolation({ driverError: { code: '23505' } })).toBe(true);
    expect(isUniqueViolation({ driverError: { code: 'SQLITE_CONSTRAINT_UNIQUE' } })).toBe(true);
    expect(isUniqueViolation({ driverError: { code: '23503' }, message: 'unique' })).toBe(false);
    expect(isUniqueViolation(new Error('UNIQUE constraint failed'))).toBe(false);
    expect(isUniqueViolation(null)).toBe(false);
  });
});
