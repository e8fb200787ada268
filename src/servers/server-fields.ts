import { applyDecorators } from '@nestjs/common';
import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';
import { isIP } from 'node:net';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { AUTH_TYPES } from './server.entity.js';

/** Column sizes; the DTOs enforce them so that the database never sees an oversized value. */
export const LIMITS = {
  name: 64,
  host: 253,
  user: 32,
  path: 1024,
  secret: 1024,
  privateKey: 16 * 1024,
  description: 1000,
  command: 16 * 1024,
} as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]*$/;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
/** POSIX portable user name: portable filename characters, not starting with a hyphen or digit. */
const POSIX_USER = /^[A-Za-z_][A-Za-z0-9._-]*$/;
/** Absolute, no `.`/`..` segments, only characters that need no quoting in a shell. */
const SAFE_ABSOLUTE_PATH = /^(?:\/(?!\.{1,2}(?:\/|$))[A-Za-z0-9._-]+)+\/?$/;
/** OpenSSH `ssh-keygen -l` form; the base64 padding some tools add is tolerated. */
export const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
const PRIVATE_KEY = /^-----BEGIN [A-Z0-9 ]+-----\r?\n[\s\S]+\r?\n-----END [A-Z0-9 ]+-----\s*$/;

/** An IP address or a DNS host name; dotted numbers that are not a valid IPv4 address are refused. */
export function isHostAddress(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > LIMITS.host) return false;
  if (isIP(value) !== 0) return true;
  return HOSTNAME.test(value) && !/^[\d.]+$/.test(value);
}

const IsHostAddress = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy({ name: 'isHostAddress', validator: { validate: isHostAddress, defaultMessage: () => '$property must be a hostname or an IP address' } }, options);

/** Present means validated; `null` is refused (only IsOptional fields may be cleared with null). */
export const Optional = (): PropertyDecorator =>
  applyDecorators(
    ValidateIf((_object, value) => value !== undefined),
    ApiProperty({ required: false }),
  );
/** May be omitted, or `null` to clear it. */
export const Nullable = (): PropertyDecorator => applyDecorators(IsOptional(), ApiProperty({ required: false, nullable: true }));

/**
 * No NUL character: PostgreSQL cannot store one in text (the insert fails) while SQLite stores it,
 * and no host name, path, user, key or description needs one.
 */
export const NoNul = (): PropertyDecorator =>
  ValidateBy({
    name: 'noNul',
    validator: { validate: (value) => typeof value !== 'string' || !value.includes('\0'), defaultMessage: () => '$property must not contain NUL characters' },
  });

/**
 * Every text field: a string of a bounded length without NUL, documented with the same bounds (and
 * pattern, when one is given) as it is validated with.
 */
const text = (min: number, max: number, doc: ApiPropertyOptions = {}, pattern?: RegExp, message?: string) => [
  IsString(),
  Length(min, max),
  NoNul(),
  ...(pattern ? [Matches(pattern, { message })] : []),
  ApiProperty({ type: String, minLength: min, maxLength: max, ...(pattern ? { pattern: pattern.source } : {}), ...doc }),
];
/** Secrets are accepted, never shown: responses say only `has…`. */
const WRITE_ONLY = { writeOnly: true, description: 'Write-only: stored encrypted, never returned.' };

export const NameField = () =>
  applyDecorators(...text(1, LIMITS.name, { example: 'eu-1' }, NAME, '$property may hold letters, digits, space, ".", "_" and "-"'));
export const HostField = () => applyDecorators(...text(1, LIMITS.host, { description: 'An IP address or a DNS host name', example: '10.0.0.5' }), IsHostAddress());
export const PortField = () => applyDecorators(IsInt(), Min(1), Max(65535), ApiProperty({ type: 'integer', minimum: 1, maximum: 65535 }));
export const UserField = () => applyDecorators(...text(1, LIMITS.user, { example: 'cs2' }, POSIX_USER, '$property must be a POSIX user name'));
export const AuthTypeField = () => applyDecorators(IsIn(AUTH_TYPES), ApiProperty({ enum: AUTH_TYPES, enumName: 'AuthType' }));
export const SecretField = () => applyDecorators(...text(1, LIMITS.secret, WRITE_ONLY));
export const PrivateKeyField = () =>
  applyDecorators(
    ...text(1, LIMITS.privateKey, { ...WRITE_ONLY, description: `PEM or OpenSSH private key. ${WRITE_ONLY.description}` }),
    Matches(PRIVATE_KEY, { message: '$property must be a PEM or OpenSSH private key' }),
  );
export const AbsolutePathField = () =>
  applyDecorators(
    ...text(2, LIMITS.path, {}, SAFE_ABSOLUTE_PATH, '$property must be an absolute path of letters, digits, ".", "_", "-" and "/"'),
  );
/** Run as `<controlScript> <action>`; null or absent means `/home/<sshUser>/cs2server`. */
export const ControlScriptField = () =>
  applyDecorators(
    ...text(2, LIMITS.path, { example: '/home/cs2/cs2server', description: 'LinuxGSM control script. Default (null): /home/<sshUser>/cs2server' }, SAFE_ABSOLUTE_PATH, '$property must be an absolute path of letters, digits, ".", "_", "-" and "/"'),
  );
export const FingerprintField = () =>
  applyDecorators(...text(1, 64, { example: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s' }, FINGERPRINT, '$property must be an OpenSSH SHA256:… fingerprint'));
export const DescriptionField = () => applyDecorators(...text(0, LIMITS.description));
