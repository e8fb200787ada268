import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * A cancel is recorded on the operation's row before any replica is told: the replica running it
 * stops the command only when the row says so, never on a notification alone (anyone who can
 * connect may NOTIFY), and finds a cancel whose notification was lost at its next lease check.
 */
export class OperationCancelRequests1765000000000 implements MigrationInterface {
  name = 'OperationCancelRequests1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const time = queryRunner.connection.driver.options.type === 'postgres' ? 'timestamptz' : 'datetime';
    await queryRunner.addColumn('operations', new TableColumn({ name: 'cancel_requested_at', type: time, isNullable: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('operations', 'cancel_requested_at');
  }
}
