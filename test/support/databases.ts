// The two database engines every HTTP and repository spec runs against. PostgreSQL comes from
// scripts/test.sh (TEST_POSTGRES_URL); each call gets a fresh database so specs never see each other.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type DatabaseKind = 'sqlite' | 'postgres';
export const DATABASE_KINDS: DatabaseKind[] = ['sqlite', 'postgres'];

export interface TestDatabase {
  kind: DatabaseKind;
  url: string;
  /** SQLite only: the database file, for scanning its bytes. */
  file?: string;
  /** Every stored row of a table, for asserting what is (not) stored. */
  rows(table: string): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

/** A directory for this spec's files: under CS2_TEST_DIR when the harness provides one. */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(process.env.CS2_TEST_DIR ?? tmpdir(), `${prefix}-`));
}

function postgresBaseUrl(): string {
  const url = process.env.TEST_POSTGRES_URL;
  if (!url) {
    throw new Error(
      'TEST_POSTGRES_URL is not set, so the PostgreSQL half of this spec cannot run. ' +
        'Run the suite through `npm test` (scripts/test.sh starts a throwaway PostgreSQL), or export ' +
        'TEST_POSTGRES_URL=postgres://user:pass@127.0.0.1:port/db of a server where that role may CREATE DATABASE.',
    );
  }
  return url;
}

/** Runs `work` on a fresh client of `url`, closed afterwards. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function createPostgres(): Promise<TestDatabase> {
  const base = postgresBaseUrl();
  const name = `cs2_test_${randomBytes(6).toString('hex')}`;
  await withClient(base, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    url: url.toString(),
    rows: (table) => withClient(url.toString(), async (c) => (await c.query(`SELECT * FROM ${table}`)).rows),
    drop: () => withClient(base, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function createSqlite(): Promise<TestDatabase> {
  const file = join(scratchDir('sqlite'), 'cs2-ssh-pool.sqlite');
  const { default: Database } = await import('better-sqlite3');
  return {
    kind: 'sqlite',
    url: `sqlite:${file}`,
    file,
    rows: async (table) => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
      } finally {
        db.close();
      }
    },
    drop: async () => undefined,
  };
}

/** @throws when kind is postgres and TEST_POSTGRES_URL is missing: that half must fail, not skip. */
export function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  return kind === 'postgres' ? createPostgres() : createSqlite();
}
