import { type ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { ApiTokenGuard } from './api-token.guard.js';
import { Public } from './public.decorator.js';

class Routes {
  secured(): void {}
  @Public() open(): void {}
}

function httpContext(handler: keyof Routes, authorization?: string): ExecutionContext {
  const request = { headers: authorization === undefined ? {} : { authorization } };
  return new ExecutionContextHost([request, {}], Routes, Routes.prototype[handler]);
}

function rpcContext(data: unknown): ExecutionContext {
  const context = new ExecutionContextHost([data, {}], Routes, Routes.prototype.secured);
  context.setType('rpc');
  return context;
}

describe('ApiTokenGuard', () => {
  const guard = new ApiTokenGuard(['alpha-token', 'beta-token'], new Reflector());

  it('matches any configured token exactly', () => {
    expect(guard.matches('alpha-token')).toBe(true);
    expect(guard.matches('beta-token')).toBe(true);
    for (const wrong of ['', 'alpha', 'alpha-token ', 'ALPHA-TOKEN', 'alpha-tokenx', 'gamma-token']) {
      expect(guard.matches(wrong)).toBe(false);
    }
  });

  it('admits a valid bearer and refuses everything else with 401', () => {
    expect(guard.canActivate(httpContext('secured', 'Bearer beta-token'))).toBe(true);
    for (const header of [undefined, '', 'Bearer', 'Bearer wrong', 'Token alpha-token', 'alpha-token', 'Bearer alpha-token extra']) {
      expect(() => guard.canActivate(httpContext('secured', header))).toThrow(UnauthorizedException);
    }
  });

  it('lets @Public() routes through without a token', () => {
    expect(guard.canActivate(httpContext('open'))).toBe(true);
  });

  it('reads the token from an RPC payload', () => {
    expect(guard.canActivate(rpcContext({ token: 'alpha-token', id: 'x' }))).toBe(true);
    expect(() => guard.canActivate(rpcContext({ id: 'x' }))).toThrow(UnauthorizedException);
    expect(() => guard.canActivate(rpcContext('alpha-token'))).toThrow(UnauthorizedException);
  });
});
