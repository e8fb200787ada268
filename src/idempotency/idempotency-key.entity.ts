import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One Idempotency-Key of one caller: the request it was first sent with (route and body hash) and,
 * once that request ended, the answer it got. `statusCode` null means the request is in progress on
 * the replica `ownerId`, which renews `leaseExpiresAt` while it lives.
 */
@Entity({ name: 'idempotency_keys' })
export class IdempotencyKeyEntity {
  /** A one-way identity of the caller's bearer token, never the token. */
  @PrimaryColumn({ type: 'varchar', length: 64 }) caller!: string;
  @PrimaryColumn({ type: 'varchar', length: 255 }) key!: string;
  /** `POST /api/servers/:id/exec`, or the TCP pattern (`servers.exec`). */
  @Column({ type: 'varchar', length: 128 }) route!: string;
  /** SHA-256 (hex) of the canonical JSON of the request's params and body. */
  @Column({ name: 'request_hash', type: 'varchar', length: 64 }) requestHash!: string;
  @Column({ name: 'status_code', type: 'integer', nullable: true }) statusCode!: number | null;
  /** The answer's body as JSON; null while in progress (and for an answer without a body). */
  @Column({ type: 'text', nullable: true }) response!: string | null;
  @Column({ name: 'owner_id', type: 'varchar', length: 36 }) ownerId!: string;
  @Column({ name: 'lease_expires_at', type: Date }) leaseExpiresAt!: Date;
  @Column({ name: 'created_at', type: Date }) createdAt!: Date;
  @Column({ name: 'expires_at', type: Date }) expiresAt!: Date;
}
