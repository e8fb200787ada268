import { type MigrationInterface, type QueryRunner, Table, TableColumn, TableForeignKey, TableIndex } from 'typeorm';

/**
 * Server operations (issue 10): the control script per server, the operations and their events.
 * One `running` row per server is a partial unique index, so the rule "one operation per server at
 * a time" holds across replicas that share the database.
 */
export class Operations1764800000000 implements MigrationInterface {
  name = 'Operations1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const time = queryRunner.connection.driver.options.type === 'postgres' ? 'timestamptz' : 'datetime';
    await queryRunner.addColumn('servers', new TableColumn({ name: 'control_script', type: 'varchar', length: '1024', isNullable: true }));
    await queryRunner.createTable(
      new Table({
        name: 'operations',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'server_id', type: 'varchar', length: '36' },
          { name: 'action', type: 'varchar', length: '16' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'exit_code', type: 'integer', isNullable: true },
          { name: 'error_code', type: 'varchar', length: '64', isNullable: true },
          { name: 'error_message', type: 'varchar', length: '1000', isNullable: true },
          { name: 'progress', type: 'real', isNullable: true },
          { name: 'output_tail', type: 'text', default: "''" },
          { name: 'last_seq', type: 'integer', default: 0 },
          { name: 'owner_id', type: 'varchar', length: '36' },
          { name: 'lease_expires_at', type: time },
          { name: 'started_at', type: time },
          { name: 'finished_at', type: time, isNullable: true },
        ],
        foreignKeys: [new TableForeignKey({ columnNames: ['server_id'], referencedTableName: 'servers', referencedColumnNames: ['id'], onDelete: 'CASCADE' })],
        indices: [
          new TableIndex({ name: 'operations_one_running_per_server', columnNames: ['server_id'], isUnique: true, where: "status = 'running'" }),
          new TableIndex({ name: 'operations_server_history', columnNames: ['server_id', 'started_at'] }),
          new TableIndex({ name: 'operations_running_lease', columnNames: ['status', 'lease_expires_at'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'operation_events',
        columns: [
          { name: 'operation_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'seq', type: 'integer', isPrimary: true },
          { name: 'type', type: 'varchar', length: '16' },
          { name: 'data', type: 'text' },
          { name: 'created_at', type: time },
        ],
        foreignKeys: [new TableForeignKey({ columnNames: ['operation_id'], referencedTableName: 'operations', referencedColumnNames: ['id'], onDelete: 'CASCADE' })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('operation_events');
    await queryRunner.dropTable('operations');
    await queryRunner.dropColumn('servers', 'control_script');
  }
}
