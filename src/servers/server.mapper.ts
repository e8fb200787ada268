import type { ExecResult } from '../ssh-pool/ssh-pool.types.js';
import type { AuthType, ServerEntity } from './server.entity.js';

/** What the API shows of a server: every non-secret field, and only whether secrets are set. */
export interface ServerResponseDto {
  id: string;
  name: string;
  host: string;
  sshPort: number;
  sshUser: string;
  authType: AuthType;
  sshKeyPath: string | null;
  hostKeyFingerprint: string | null;
  gameDirectory: string;
  gamePort: number;
  description: string | null;
  hasPassword: boolean;
  hasPrivateKey: boolean;
  hasKeyPassphrase: boolean;
  createdAt: string;
  updatedAt: string;
}

export type ExecResponseDto = ExecResult;

/** Field by field on purpose: a new entity column stays out of responses until it is added here. */
export function toServerResponse(server: ServerEntity): ServerResponseDto {
  return {
    id: server.id,
    name: server.name,
    host: server.host,
    sshPort: server.sshPort,
    sshUser: server.sshUser,
    authType: server.authType,
    sshKeyPath: server.sshKeyPath,
    hostKeyFingerprint: server.hostKeyFingerprint,
    gameDirectory: server.gameDirectory,
    gamePort: server.gamePort,
    description: server.description,
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
