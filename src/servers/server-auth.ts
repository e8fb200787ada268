import { type FieldError, RequestValidationError } from '../common/request-validation.error.js';
import type { CredentialsCipher } from './credentials-cipher.js';
import type { AuthType, ServerEntity } from './server.entity.js';

/** The auth-related part of a create or update request. */
export interface AuthInput {
  authType?: AuthType;
  sshPassword?: string;
  sshKeyPath?: string;
  sshPrivateKey?: string;
  sshKeyPassphrase?: string | null;
}

export type SecretChange = { kind: 'keep' } | { kind: 'clear' } | { kind: 'set'; value: string };

/** What to store after a create or update: the new auth type, key path, and what happens to each secret. */
export interface AuthPlan {
  authType: AuthType;
  sshKeyPath: string | null;
  password: SecretChange;
  privateKey: SecretChange;
  passphrase: SecretChange;
}

const KEEP: SecretChange = { kind: 'keep' };
const CLEAR: SecretChange = { kind: 'clear' };
const set = (value: string): SecretChange => ({ kind: 'set', value });
const given = <T>(value: T | null | undefined): value is T => value !== undefined && value !== null;

function misplaced(input: AuthInput, fields: (keyof AuthInput)[], authType: AuthType): FieldError[] {
  return fields
    .filter((field) => given(input[field]))
    .map((field) => ({ field, messages: [`${field} is not allowed when authType is ${authType}`] }));
}

function planPassword(current: ServerEntity | null, input: AuthInput): AuthPlan {
  const errors = misplaced(input, ['sshKeyPath', 'sshPrivateKey', 'sshKeyPassphrase'], 'PASSWORD');
  const keeps = current?.authType === 'PASSWORD' && current.sshPasswordEnc !== null;
  if (!given(input.sshPassword) && !keeps) {
    errors.push({ field: 'sshPassword', messages: ['sshPassword is required when authType is PASSWORD'] });
  }
  if (errors.length > 0) throw new RequestValidationError(errors);
  const password = given(input.sshPassword) ? set(input.sshPassword) : KEEP;
  return { authType: 'PASSWORD', sshKeyPath: null, password, privateKey: CLEAR, passphrase: CLEAR };
}

/** A new key (path or inline) replaces the other source; the passphrase stays unless replaced or nulled. */
function planKeyFile(current: ServerEntity | null, input: AuthInput): AuthPlan {
  const errors = misplaced(input, ['sshPassword'], 'KEY_FILE');
  const wasKeyFile = current?.authType === 'KEY_FILE';
  if (given(input.sshKeyPath) && given(input.sshPrivateKey)) {
    errors.push({ field: 'sshPrivateKey', messages: ['give either sshKeyPath or sshPrivateKey, not both'] });
  } else if (!given(input.sshKeyPath) && !given(input.sshPrivateKey) && !wasKeyFile) {
    errors.push({ field: 'sshKeyPath', messages: ['sshKeyPath or sshPrivateKey is required when authType is KEY_FILE'] });
  }
  if (errors.length > 0) throw new RequestValidationError(errors);
  const passphrase =
    input.sshKeyPassphrase === null ? CLEAR : given(input.sshKeyPassphrase) ? set(input.sshKeyPassphrase) : wasKeyFile ? KEEP : CLEAR;
  if (given(input.sshPrivateKey)) {
    return { authType: 'KEY_FILE', sshKeyPath: null, password: CLEAR, privateKey: set(input.sshPrivateKey), passphrase };
  }
  if (given(input.sshKeyPath)) {
    return { authType: 'KEY_FILE', sshKeyPath: input.sshKeyPath, password: CLEAR, privateKey: CLEAR, passphrase };
  }
  return { authType: 'KEY_FILE', sshKeyPath: current?.sshKeyPath ?? null, password: CLEAR, privateKey: KEEP, passphrase };
}

/**
 * Checks the auth fields of a create (`current` null) or update against the resulting `authType`.
 * @throws RequestValidationError naming each missing or misplaced field.
 */
export function planAuth(current: ServerEntity | null, input: AuthInput): AuthPlan {
  const authType = input.authType ?? current?.authType ?? 'PASSWORD';
  return authType === 'PASSWORD' ? planPassword(current, input) : planKeyFile(current, input);
}

/** Secrets are sealed with their server id and column as context: see CredentialsCipher. */
export function secretContext(serverId: string, column: string): string {
  return `servers/${serverId}/${column}`;
}

function sealed(change: SecretChange, stored: string | null, seal: (value: string) => string): string | null {
  if (change.kind === 'keep') return stored;
  return change.kind === 'set' ? seal(change.value) : null;
}

/** Writes an AuthPlan onto the entity, encrypting new secrets; the entity must already have its id. */
export function applyAuthPlan(server: ServerEntity, plan: AuthPlan, cipher: CredentialsCipher): void {
  const seal = (column: string) => (value: string) => cipher.encrypt(value, secretContext(server.id, column));
  server.authType = plan.authType;
  server.sshKeyPath = plan.sshKeyPath;
  server.sshPasswordEnc = sealed(plan.password, server.sshPasswordEnc, seal('sshPassword'));
  server.sshPrivateKeyEnc = sealed(plan.privateKey, server.sshPrivateKeyEnc, seal('sshPrivateKey'));
  server.sshKeyPassphraseEnc = sealed(plan.passphrase, server.sshKeyPassphraseEnc, seal('sshKeyPassphrase'));
}
