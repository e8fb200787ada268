import { Column, Entity, PrimaryColumn } from 'typeorm';

export const ACTIONS = ['start', 'stop', 'restart', 'update', 'validate'] as const;
/** A LinuxGSM command: `<controlScript> <action>`. */
export type Action = (typeof ACTIONS)[number];

export const STATUSES = ['running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
/** `interrupted`: the replica running it stopped or died before it ended. */
export type OperationStatus = (typeof STATUSES)[number];

export const EVENT_TYPES = ['output', 'progress', 'done'] as const;
export type OperationEventType = (typeof EVENT_TYPES)[number];

/**
 * One control action on one server. While `running`, `ownerId` is the replica that runs it and
 * renews `leaseExpiresAt`; a lease that ran out means that replica is gone.
 */
@Entity({ name: 'operations' })
export class OperationEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id!: string;
  @Column({ name: 'server_id', type: 'varchar', length: 36 }) serverId!: string;
  @Column({ type: 'varchar', length: 16 }) action!: Action;
  @Column({ type: 'varchar', length: 16 }) status!: OperationStatus;
  @Column({ name: 'exit_code', type: 'integer', nullable: true }) exitCode!: number | null;
  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true }) errorCode!: string | null;
  @Column({ name: 'error_message', type: 'varchar', length: 1000, nullable: true }) errorMessage!: string | null;
  @Column({ type: 'real', nullable: true }) progress!: number | null;
  @Column({ name: 'output_tail', type: 'text', default: '' }) outputTail!: string;
  /** The seq of its last stored event. */
  @Column({ name: 'last_seq', type: 'integer', default: 0 }) lastSeq!: number;
  @Column({ name: 'owner_id', type: 'varchar', length: 36 }) ownerId!: string;
  @Column({ name: 'lease_expires_at', type: Date }) leaseExpiresAt!: Date;
  @Column({ name: 'started_at', type: Date }) startedAt!: Date;
  @Column({ name: 'finished_at', type: Date, nullable: true }) finishedAt!: Date | null;
  /** Set by a cancel (from any replica) while it runs: the only thing that makes its owner stop it as `cancelled`. */
  @Column({ name: 'cancel_requested_at', type: Date, nullable: true }) cancelRequestedAt!: Date | null;
}

/** One event of an operation's stream, numbered 1, 2, 3… per operation (the SSE id). */
@Entity({ name: 'operation_events' })
export class OperationEventEntity {
  @PrimaryColumn({ name: 'operation_id', type: 'varchar', length: 36 }) operationId!: string;
  @PrimaryColumn({ type: 'integer' }) seq!: number;
  @Column({ type: 'varchar', length: 16 }) type!: OperationEventType;
  /** JSON. */
  @Column({ type: 'text' }) data!: string;
  @Column({ name: 'created_at', type: Date }) createdAt!: Date;
}

/** A new operation, `running`, with no output yet. */
export function runningOperation(fields: Pick<OperationEntity, 'id' | 'serverId' | 'action' | 'ownerId' | 'leaseExpiresAt' | 'startedAt'>): OperationEntity {
  return Object.assign(new OperationEntity(), {
    ...fields,
    status: 'running',
    exitCode: null,
    errorCode: null,
    errorMessage: null,
    progress: null,
    outputTail: '',
    lastSeq: 0,
    finishedAt: null,
    cancelRequestedAt: null,
  } satisfies OperationEntity);
}
