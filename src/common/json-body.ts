import { UnsupportedMediaTypeException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { FieldError } from './request-validation.error.js';

/** Bodies this service accepts; larger ones are 413. Its DTOs are a few KiB at most. */
export const MAX_BODY_BYTES = 100 * 1024;
/** Every DTO is flat; this leaves room for growth and keeps recursive transformers far from the stack limit. */
export const MAX_BODY_DEPTH = 32;
/** Keys that name prototype machinery: class-transformer and the whitelist skip them, so they are refused here. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A body is there when it has a length above zero or is chunked; an empty POST (`Content-Length: 0`) has none. */
function carriesBody(request: Request): boolean {
  return request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
}

/**
 * Express middleware: request bodies are JSON only. Anything else (form-encoded, multipart, text,
 * no type at all) is 415 before any parser reads it, so no other parser can hand a route a body.
 */
export function requireJsonBody(request: Request, _response: Response, next: NextFunction): void {
  if (carriesBody(request) && request.is('application/json') !== 'application/json') {
    next(new UnsupportedMediaTypeException('Request bodies must be application/json'));
    return;
  }
  next();
}

/**
 * Walks a parsed JSON value without recursion: the first key naming prototype machinery, or the
 * first place nested deeper than `maxDepth`, as a field error; `null` when the shape is fine.
 */
export function jsonShapeError(value: unknown, maxDepth = MAX_BODY_DEPTH): FieldError | null {
  const pending: { value: unknown; depth: number; path: string }[] = [{ value, depth: 0, path: '' }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= maxDepth) {
      return { field: 'body', messages: [`body must not nest deeper than ${maxDepth} levels`] };
    }
    for (const key of Object.keys(item.value)) {
      const path = item.path === '' ? key : `${item.path}.${key}`;
      if (PROTOTYPE_KEYS.has(key)) return { field: path, messages: [`property ${path} should not exist`] };
      pending.push({ value: (item.value as Record<string, unknown>)[key], depth: item.depth + 1, path });
    }
  }
  return null;
}
