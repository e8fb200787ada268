import { type MigrationInterface, type QueryRunner, Table, type TableColumnOptions } from 'typeorm';

/**
 * Driver-neutral through the Table API, so one migration serves SQLite and PostgreSQL. Timestamps
 * are `timestamptz` on PostgreSQL (the entity's default `timestamp` would depend on the session time
 * zone); TypeORM converts both column kinds to and from absolute Dates the same way.
 */
export class InitialSchema1764150000000 implements MigrationInterface {
  name = 'InitialSchema1764150000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const time = timestampType(queryRunner);
    const now = queryRunner.connection.driver.mappedDataTypes.createDateDefault;
    await queryRunner.createTable(new Table({ name: 'servers', columns: serverColumns(time, now) }));
    await queryRunner.createTable(
      new Table({
        name: 'host_keys',
        columns: [
          { name: 'host', type: 'varchar', length: '253', isPrimary: true },
          { name: 'port', type: 'integer', isPrimary: true },
          { name: 'algorithm', type: 'varchar', length: '64' },
          { name: 'fingerprint', type: 'varchar', length: '64' },
          { name: 'first_seen_at', type: time },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('host_keys');
    await queryRunner.dropTable('servers');
  }
}

function timestampType(queryRunner: QueryRunner): string {
  return queryRunner.connection.driver.options.type === 'postgres' ? 'timestamptz' : 'datetime';
}

function serverColumns(time: string, now: unknown): TableColumnOptions[] {
  const text = (name: string, length: number, nullable = false): TableColumnOptions => ({
    name,
    type: 'varchar',
    length: String(length),
    isNullable: nullable,
  });
  const secret = (name: string): TableColumnOptions => ({ name, type: 'text', isNullable: true });
  return [
    { ...text('id', 36), isPrimary: true },
    { ...text('name', 64), isUnique: true },
    text('host', 253),
    { name: 'ssh_port', type: 'integer' },
    text('ssh_user', 32),
    text('auth_type', 16),
    secret('ssh_password_enc'),
    secret('ssh_private_key_enc'),
    secret('ssh_key_passphrase_enc'),
    text('ssh_key_path', 1024, true),
    text('host_key_fingerprint', 64, true),
    text('game_directory', 1024),
    { name: 'game_port', type: 'integer' },
    text('description', 1000, true),
    { name: 'created_at', type: time, default: now },
    { name: 'updated_at', type: time, default: now },
  ];
}
