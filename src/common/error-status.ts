import { HttpStatus } from '@nestjs/common';
import { ServerErrorCode } from '../servers/servers.errors.js';
import { SshPoolErrorCode } from '../ssh-pool/ssh-pool.errors.js';
import { assertNever } from './assert-never.js';

export function poolErrorStatus(code: SshPoolErrorCode): HttpStatus {
  switch (code) {
    case SshPoolErrorCode.AUTH_FAILED:
    case SshPoolErrorCode.UNREACHABLE:
    case SshPoolErrorCode.HOST_KEY_MISMATCH:
    case SshPoolErrorCode.CHANNEL_FAILED:
      return HttpStatus.BAD_GATEWAY;
    case SshPoolErrorCode.CONNECT_TIMEOUT:
    case SshPoolErrorCode.EXEC_TIMEOUT:
      return HttpStatus.GATEWAY_TIMEOUT;
    case SshPoolErrorCode.HOST_DOWN:
    case SshPoolErrorCode.SHUTTING_DOWN:
      return HttpStatus.SERVICE_UNAVAILABLE;
    case SshPoolErrorCode.KEY_INVALID:
      return HttpStatus.UNPROCESSABLE_ENTITY;
    case SshPoolErrorCode.TARGET_FORBIDDEN:
      return HttpStatus.FORBIDDEN;
    default:
      return assertNever(code);
  }
}

export function serverErrorStatus(code: ServerErrorCode): HttpStatus {
  switch (code) {
    case ServerErrorCode.NOT_FOUND:
      return HttpStatus.NOT_FOUND;
    case ServerErrorCode.NAME_TAKEN:
      return HttpStatus.CONFLICT;
    case ServerErrorCode.KEY_INVALID:
      return HttpStatus.UNPROCESSABLE_ENTITY;
    case ServerErrorCode.CREDENTIALS_UNREADABLE:
      return HttpStatus.INTERNAL_SERVER_ERROR;
    default:
      return assertNever(code);
  }
}
