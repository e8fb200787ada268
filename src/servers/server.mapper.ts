import { ApiProperty } from '@nestjs/swagger';
import type { StoredHostKey } from '../ssh-pool/host-key-store.js';
import type { ExecResult } from '../ssh-pool/ssh-pool.types.js';
import { AUTH_TYPES, type AuthType, controlScriptOf, type ServerEntity } from './server.entity.js';

/** A host key the service pinned for the server's host:port on its first connection (HOST_KEY_POLICY=accept-new). */
export interface PinnedHostKeyDto {
  algorithm: string;
  fingerprint: string;
  pinnedAt: string;
}

/** What the API shows of a server: every non-secret field, and only whether secrets are set. */
export class ServerResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'eu-1' }) name!: string;
  @ApiProperty({ example: '10.0.0.5' }) host!: string;
  @ApiProperty({ type: 'integer', example: 22 }) sshPort!: number;
  @ApiProperty({ example: 'cs2' }) sshUser!: string;
  @ApiProperty({ enum: AUTH_TYPES, enumName: 'AuthType' }) authType!: AuthType;
  @ApiProperty({ type: String, nullable: true }) sshKeyPath!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The fingerprint an operator pinned; the host must present that key' }) hostKeyFingerprint!: string | null;
  // Inline, not a $ref: OpenAPI 3.0 cannot make a referenced schema nullable.
  @ApiProperty({
    type: 'object',
    nullable: true,
    properties: {
      algorithm: { type: 'string', example: 'ssh-ed25519', description: 'The key type the host presented' },
      fingerprint: { type: 'string', example: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s', description: 'As `ssh-keygen -lf <host key>.pub` prints it' },
      pinnedAt: { type: 'string', format: 'date-time', description: 'When it was pinned: first seen, or re-pinned through hostKeyFingerprint' },
    },
    required: ['algorithm', 'fingerprint', 'pinnedAt'],
    description:
      'The host key the service remembered for this host:port (shared by every server on it); null before the first connection, and always under HOST_KEY_POLICY strict or off',
  })
  pinnedHostKey!: PinnedHostKeyDto | null;
  @ApiProperty({ example: '/home/cs2/serverfiles' }) gameDirectory!: string;
  @ApiProperty({ type: 'integer', example: 27015 }) gamePort!: number;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ example: '/home/cs2/cs2server', description: 'The LinuxGSM control script actions run: the one set, or /home/<sshUser>/cs2server' })
  controlScript!: string;
  @ApiProperty({ description: 'An SSH password is stored' }) hasPassword!: boolean;
  @ApiProperty({ description: 'An inline private key is stored' }) hasPrivateKey!: boolean;
  @ApiProperty({ description: 'A key passphrase is stored' }) hasKeyPassphrase!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

/** A non-zero exit is still a success: the command ran. */
export class ExecResponseDto implements ExecResult {
  @ApiProperty({ type: 'integer', nullable: true, description: 'null when the command ended by a signal' }) exitCode!: number | null;
  @ApiProperty({ type: String, nullable: true, example: null }) signal!: string | null;
  @ApiProperty() stdout!: string;
  @ApiProperty() stderr!: string;
  @ApiProperty({ type: 'integer' }) durationMs!: number;
  @ApiProperty({ description: 'Output was cut at the cap' }) truncated!: boolean;
}

type PinnedHostKey = Pick<StoredHostKey, 'algorithm' | 'fingerprint' | 'firstSeenAt'>;

/** Field by field on purpose: a new entity column stays out of responses until it is added here. */
export function toServerResponse(server: ServerEntity, pinned: PinnedHostKey | null): ServerResponseDto {
  return {
    id: server.id,
    name: server.name,
    host: server.host,
    sshPort: server.sshPort,
    sshUser: server.sshUser,
    authType: server.authType,
    sshKeyPath: server.sshKeyPath,
    hostKeyFingerprint: server.hostKeyFingerprint,
    pinnedHostKey: pinned && { algorithm: pinned.algorithm, fingerprint: pinned.fingerprint, pinnedAt: pinned.firstSeenAt.toISOString() },
    gameDirectory: server.gameDirectory,
    gamePort: server.gamePort,
    description: server.description,
    controlScript: controlScriptOf(server),
    hasPassword: server.sshPasswordEnc !== null,
    hasPrivateKey: server.sshPrivateKeyEnc !== null,
    hasKeyPassphrase: server.sshKeyPassphraseEnc !== null,
    createdAt: server.createdAt.toISOString(),
    updatedAt: server.updatedAt.toISOString(),
  };
}

export function toExecResponse(result: ExecResult): ExecResponseDto {
  const { exitCode, signal, stdout, stderr, durationMs, truncated } = result;
  return { exitCode, signal, stdout, stderr, durationMs, truncated };
}
