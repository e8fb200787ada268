import type { ExecutionContext } from '@nestjs/common';
import type { TcpContext } from '@nestjs/microservices';
import type { Request } from 'express';
import { createHash } from 'node:crypto';
import { presentedToken } from '../common/api-token.guard.js';
import { correlationIdOf, rpcCorrelationIdOf } from '../common/correlation-id.js';
import { withoutEnvelope } from '../transport/rpc-payload.js';
import { IDEMPOTENCY_KEY_FIELD, IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey } from './idempotency-key.js';

/** A request that carries an idempotency key, as the store keeps it. */
export interface IdempotentRequest {
  /** One-way identity of the caller's token: keys of different tokens never meet. */
  caller: string;
  key: string;
  route: string;
  requestHash: string;
  /** The request's own correlation id, for the error body stored as its answer. */
  correlationId: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The token's identity: a labelled SHA-256, so the stored value is useless as a token and distinct from other digests of it. */
export const callerIdentity = (token: string): string => sha256(`cs2-ssh-pool/idempotency-caller\n${token}`);

/** JSON with object keys sorted at every depth: the same params and body hash the same, however the client ordered them. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The `:id` of a route is a UUID accepted in any letter case: the same server in any case is the same request. */
function lowerCased(params: Request['params']): Request['params'] {
  return typeof params.id === 'string' ? { ...params, id: params.id.toLowerCase() } : params;
}

function fromHttp(context: ExecutionContext): IdempotentRequest | null {
  const request = context.switchToHttp().getRequest<Request>();
  const key = parseIdempotencyKey(request.headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()], IDEMPOTENCY_KEY_HEADER);
  if (key === null) return null;
  const path: unknown = request.route?.path;
  return {
    caller: callerIdentity(presentedToken(context) ?? ''),
    key,
    route: `${request.method} ${request.baseUrl}${typeof path === 'string' ? path : request.path}`,
    // A route without a body accepts none or `{}`: the same request either way.
    requestHash: sha256(canonicalJson({ params: lowerCased(request.params), body: request.body ?? {} })),
    correlationId: correlationIdOf(request),
  };
}

function fromRpc(context: ExecutionContext): IdempotentRequest | null {
  const data: unknown = context.switchToRpc().getData();
  const fields = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  const key = parseIdempotencyKey(fields[IDEMPOTENCY_KEY_FIELD], IDEMPOTENCY_KEY_FIELD);
  if (key === null) return null;
  return {
    caller: callerIdentity(presentedToken(context) ?? ''),
    key,
    route: context.switchToRpc().getContext<TcpContext>().getPattern(),
    requestHash: sha256(canonicalJson(withoutEnvelope(data, true))),
    correlationId: rpcCorrelationIdOf(data),
  };
}

/** The request's key and what identifies it, or null when it carries no key. @throws RequestValidationError for a malformed key */
export function idempotentRequestOf(context: ExecutionContext): IdempotentRequest | null {
  return context.getType() === 'rpc' ? fromRpc(context) : fromHttp(context);
}
