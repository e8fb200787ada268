import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The pool's trust-on-first-use memory: one accepted host key per host:port. */
@Entity({ name: 'host_keys' })
export class HostKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 253 }) host!: string;
  @PrimaryColumn({ type: 'integer' }) port!: number;
  @Column({ type: 'varchar', length: 64 }) algorithm!: string;
  /** OpenSSH `SHA256:<base64>` form. */
  @Column({ type: 'varchar', length: 64 }) fingerprint!: string;
  @Column({ name: 'first_seen_at' }) firstSeenAt!: Date;
}
