import { jsonShapeError, MAX_BODY_DEPTH } from './json-body.js';

const nested = (depth: number): unknown => JSON.parse('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));

describe('jsonShapeError', () => {
  it('accepts scalars, flat objects and nesting up to the limit', () => {
    for (const value of [undefined, null, 'x', 3, {}, [], { name: 'eu-1', tags: ['a', { b: 1 }] }, nested(MAX_BODY_DEPTH)]) {
      expect(jsonShapeError(value)).toBeNull();
    }
  });

  it('refuses one level more than the limit, and 100 000 levels without overflowing the stack', () => {
    const expected = { field: 'body', messages: [`body must not nest deeper than ${MAX_BODY_DEPTH} levels`] };
    expect(jsonShapeError(nested(MAX_BODY_DEPTH + 1))).toEqual(expected);
    expect(jsonShapeError(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)))).toEqual(expected);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('names a "%s" key at any depth by its path', (key) => {
    expect(jsonShapeError(JSON.parse(`{"${key}":{}}`))).toEqual({ field: key, messages: [`property ${key} should not exist`] });
    expect(jsonShapeError(JSON.parse(`{"a":[{"${key}":1}]}`))).toEqual({ field: `a.0.${key}`, messages: [`property a.0.${key} should not exist`] });
  });
});
