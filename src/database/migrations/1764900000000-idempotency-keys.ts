import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';

/**
 * Idempotency keys (issue 14). The primary key (caller, key) is what decides, across replicas that
 * share the database, which request with a key runs: the one whose insert succeeds.
 */
export class IdempotencyKeys1764900000000 implements MigrationInterface {
  name = 'IdempotencyKeys1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const time = queryRunner.connection.driver.options.type === 'postgres' ? 'timestamptz' : 'datetime';
    await queryRunner.createTable(
      new Table({
        name: 'idempotency_keys',
        columns: [
          { name: 'caller', type: 'varchar', length: '64', isPrimary: true },
          { name: 'key', type: 'varchar', length: '255', isPrimary: true },
          { name: 'route', type: 'varchar', length: '128' },
          { name: 'request_hash', type: 'varchar', length: '64' },
          { name: 'status_code', type: 'integer', isNullable: true },
          { name: 'response', type: 'text', isNullable: true },
          { name: 'owner_id', type: 'varchar', length: '36' },
          { name: 'lease_expires_at', type: time },
          { name: 'created_at', type: time },
          { name: 'expires_at', type: time },
        ],
        indices: [new TableIndex({ name: 'idempotency_keys_expiry', columnNames: ['expires_at'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('idempotency_keys');
  }
}
