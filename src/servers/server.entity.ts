import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { SshAuth } from '../ssh-pool/ssh-pool.types.js';

export type AuthType = SshAuth['type'];
export const AUTH_TYPES: readonly AuthType[] = ['PASSWORD', 'KEY_FILE'];

/**
 * One CS2 server reached over SSH. Secrets live only in the `*_enc` columns, sealed by
 * CredentialsCipher; nothing maps them to a response (see server.mapper.ts).
 */
@Entity({ name: 'servers' })
export class ServerEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id!: string;
  @Column({ type: 'varchar', length: 64, unique: true }) name!: string;
  @Column({ type: 'varchar', length: 253 }) host!: string;
  @Column({ name: 'ssh_port', type: 'integer' }) sshPort!: number;
  @Column({ name: 'ssh_user', type: 'varchar', length: 32 }) sshUser!: string;
  @Column({ name: 'auth_type', type: 'varchar', length: 16 }) authType!: AuthType;
  @Column({ name: 'ssh_password_enc', type: 'text', nullable: true }) sshPasswordEnc!: string | null;
  @Column({ name: 'ssh_private_key_enc', type: 'text', nullable: true }) sshPrivateKeyEnc!: string | null;
  @Column({ name: 'ssh_key_passphrase_enc', type: 'text', nullable: true }) sshKeyPassphraseEnc!: string | null;
  @Column({ name: 'ssh_key_path', type: 'varchar', length: 1024, nullable: true }) sshKeyPath!: string | null;
  @Column({ name: 'host_key_fingerprint', type: 'varchar', length: 64, nullable: true })
  hostKeyFingerprint!: string | null;
  @Column({ name: 'game_directory', type: 'varchar', length: 1024 }) gameDirectory!: string;
  @Column({ name: 'game_port', type: 'integer' }) gamePort!: number;
  @Column({ type: 'varchar', length: 1000, nullable: true }) description!: string | null;
  /** The LinuxGSM control script; null means LinuxGSM's default layout (controlScriptOf). */
  @Column({ name: 'control_script', type: 'varchar', length: 1024, nullable: true }) controlScript!: string | null;
  @CreateDateColumn({ name: 'created_at' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

/** The server's control script: the one set, or LinuxGSM's default `/home/<sshUser>/cs2server`. */
export function controlScriptOf(server: Pick<ServerEntity, 'controlScript' | 'sshUser'>): string {
  return server.controlScript ?? `/home/${server.sshUser}/cs2server`;
}
