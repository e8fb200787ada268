import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Length, Matches, Max, Min } from 'class-validator';
import type { AuthType } from './server.entity.js';
import {
  AbsolutePathField,
  AuthTypeField,
  ControlScriptField,
  DescriptionField,
  FingerprintField,
  HostField,
  LIMITS,
  NameField,
  Nullable,
  Optional,
  PortField,
  PrivateKeyField,
  SecretField,
  UserField,
} from './server-fields.js';

/** Which auth fields go with which `authType` is checked after validation, by planAuth (server-auth.ts). */
export class CreateServerDto {
  @NameField() name!: string;
  @HostField() host!: string;
  @Optional() @PortField() sshPort?: number;
  @UserField() sshUser!: string;
  @AuthTypeField() authType!: AuthType;
  @Optional() @SecretField() sshPassword?: string;
  @Optional() @AbsolutePathField() sshKeyPath?: string;
  @Optional() @PrivateKeyField() sshPrivateKey?: string;
  @Nullable() @SecretField() sshKeyPassphrase?: string | null;
  @Nullable() @FingerprintField() hostKeyFingerprint?: string | null;
  @AbsolutePathField() gameDirectory!: string;
  @Optional() @PortField() gamePort?: number;
  @Nullable() @DescriptionField() description?: string | null;
  @Nullable() @ControlScriptField() controlScript?: string | null;
}

/** PATCH: any subset. `null` clears the nullable fields (e.g. unpins `hostKeyFingerprint`). */
export class UpdateServerDto {
  @Optional() @NameField() name?: string;
  @Optional() @HostField() host?: string;
  @Optional() @PortField() sshPort?: number;
  @Optional() @UserField() sshUser?: string;
  @Optional() @AuthTypeField() authType?: AuthType;
  @Optional() @SecretField() sshPassword?: string;
  @Optional() @AbsolutePathField() sshKeyPath?: string;
  @Optional() @PrivateKeyField() sshPrivateKey?: string;
  @Nullable() @SecretField() sshKeyPassphrase?: string | null;
  @Nullable() @FingerprintField() hostKeyFingerprint?: string | null;
  @Optional() @AbsolutePathField() gameDirectory?: string;
  @Optional() @PortField() gamePort?: number;
  @Nullable() @DescriptionField() description?: string | null;
  @Nullable() @ControlScriptField() controlScript?: string | null;
}

export const MAX_EXEC_TIMEOUT_MS = 10 * 60 * 1000;

export class ExecCommandDto {
  @IsString()
  @Length(1, LIMITS.command)
  @Matches(/^[^\0]*$/, { message: '$property must not contain NUL characters' })
  @ApiProperty({ minLength: 1, maxLength: LIMITS.command, description: 'Run by the login shell of `sshUser`', example: 'uptime' })
  command!: string;

  @Optional()
  @IsInt()
  @Min(100)
  @Max(MAX_EXEC_TIMEOUT_MS)
  @ApiProperty({ type: 'integer', minimum: 100, maximum: MAX_EXEC_TIMEOUT_MS, description: 'Default: SSH_EXEC_TIMEOUT_MS. Covers queueing and running; the remote command is killed at the end.' })
  timeoutMs?: number;
}
