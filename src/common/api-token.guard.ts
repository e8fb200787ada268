import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { API_TOKENS } from './api-tokens.provider.js';
import { IS_PUBLIC } from './public.decorator.js';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Bearer authentication for everything not marked `@Public()`. Tokens are compared as SHA-256
 * digests with `timingSafeEqual` over every configured token, so neither the length nor the position
 * of a match shows in the timing.
 */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  private readonly digests: Buffer[];

  constructor(
    @Inject(API_TOKENS) tokens: readonly string[],
    private readonly reflector: Reflector,
  ) {
    this.digests = tokens.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const presented = presentedToken(context);
    if (presented !== null && this.matches(presented)) return true;
    throw new UnauthorizedException('Missing or invalid bearer token');
  }

  matches(token: string): boolean {
    const presented = digest(token);
    let found = false;
    for (const known of this.digests) {
      found = timingSafeEqual(known, presented) || found;
    }
    return found;
  }
}

/** The bearer token an HTTP request or an RPC payload (`token`) presents, or null; checked by ApiTokenGuard. */
export function presentedToken(context: ExecutionContext): string | null {
  if (context.getType() === 'rpc') {
    const data: unknown = context.switchToRpc().getData();
    const token = typeof data === 'object' && data !== null && 'token' in data ? data.token : null;
    return typeof token === 'string' ? token : null;
  }
  const header = context.switchToHttp().getRequest<Request>().headers.authorization;
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match ? match[1] : null;
}
