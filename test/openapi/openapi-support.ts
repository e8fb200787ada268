// Reading the served OpenAPI document and comparing it with what Nest mapped and what the API answers.
import { type INestApplication, RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { OpenAPIObject, OperationObject, ReferenceObject, ResponseObject, SchemaObject } from '@nestjs/swagger';

export type { OpenAPIObject, OperationObject, SchemaObject };
type Schema = SchemaObject | ReferenceObject;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/** `:id` → `{id}`, slashes normalised: the document's way of writing a route. */
function routeKey(method: string, ...parts: string[]): string {
  const path = parts.flatMap((p) => p.split('/')).filter((s) => s !== '');
  return `${method.toUpperCase()} /${path.map((s) => s.replace(/^:(\w+)$/, '{$1}')).join('/')}`;
}

/** Every HTTP route Nest mapped, from the controllers' metadata (message handlers have no path and are skipped). */
export function mappedRoutes(app: INestApplication): string[] {
  const scanner = new MetadataScanner();
  const routes: string[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type;
      const prefixes = [Reflect.getMetadata(PATH_METADATA, controller) as string | string[]].flat();
      for (const name of scanner.getAllMethodNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name] as object;
        const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (paths === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        for (const prefix of prefixes) for (const path of [paths].flat()) routes.push(routeKey(method, prefix, path));
      }
    }
  }
  return routes.sort();
}

export interface DocumentedOperation {
  route: string;
  method: string;
  path: string;
  operation: OperationObject;
}

export function operations(doc: OpenAPIObject): DocumentedOperation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => item[m] !== undefined).map((method) => ({ route: `${method.toUpperCase()} ${path}`, method, path, operation: item[method]! })),
  );
}

export function operationOf(doc: OpenAPIObject, route: string): OperationObject {
  const found = operations(doc).find((o) => o.route === route);
  if (!found) throw new Error(`${route} is not in the document`);
  return found.operation;
}

export function resolve(doc: OpenAPIObject, schema: Schema): SchemaObject {
  if (!('$ref' in schema)) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  const target = doc.components?.schemas?.[name];
  if (!target) throw new Error(`unresolved ${schema.$ref}`);
  return resolve(doc, target);
}

function responseOf(doc: OpenAPIObject, route: string, status: number): ResponseObject {
  const response = operationOf(doc, route).responses[String(status)] as ResponseObject | undefined;
  if (!response) throw new Error(`${route} documents no ${status}`);
  return response;
}

/** The JSON schema of a documented response, or undefined when it has no JSON body. */
export function responseSchema(doc: OpenAPIObject, route: string, status: number): Schema | undefined {
  return responseOf(doc, route, status).content?.['application/json']?.schema;
}

/** The media types a documented response names. */
export function mediaTypes(doc: OpenAPIObject, route: string, status: number): string[] {
  return Object.keys(responseOf(doc, route, status).content ?? {});
}

/** The error codes a documented error response names (the `code` enum of its ErrorBody). */
export function documentedCodes(doc: OpenAPIObject, route: string, status: number): string[] {
  const schema = responseSchema(doc, route, status);
  const parts = schema && !('$ref' in schema) ? (schema.allOf ?? []) : [];
  return parts.flatMap((part) => (('properties' in part && (part.properties?.code as SchemaObject | undefined)?.enum) || []) as string[]);
}

/**
 * Where `value` departs from `schema`, as readable paths; empty when it conforms. Objects are
 * strict: a key the schema does not name is a departure unless `additionalProperties` allows it,
 * so that a field a response gains without its DTO is caught.
 */
export function departures(doc: OpenAPIObject, schema: Schema, value: unknown, at = '$', open = false): string[] {
  const s = resolve(doc, schema);
  if (s.allOf) return allOfDepartures(doc, s.allOf, value, at);
  if (s.oneOf) return s.oneOf.some((part) => departures(doc, part, value, at).length === 0) ? [] : [`${at}: matches no oneOf branch`];
  if (value === null) return s.nullable ? [] : [`${at}: null`];
  if (s.enum && !s.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(s.enum)}`];
  switch (s.type) {
    case 'object':
      return objectDepartures(doc, s, value, at, open);
    case 'array':
      return Array.isArray(value) ? value.flatMap((item, i) => departures(doc, s.items ?? {}, item, `${at}[${i}]`)) : [`${at}: not an array`];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at}: not an integer`];
    case 'number':
    case 'string':
    case 'boolean':
      return typeof value === s.type ? [] : [`${at}: not a ${s.type}`];
    default:
      return [];
  }
}

/** Each part checked on its own, open to the others' keys; then no key that no part names. */
function allOfDepartures(doc: OpenAPIObject, allOf: Schema[], value: unknown, at: string): string[] {
  const parts = allOf.map((part) => resolve(doc, part));
  const own = parts.flatMap((part) => departures(doc, part, value, at, true));
  if (typeof value !== 'object' || value === null || parts.some((p) => p.additionalProperties)) return own;
  const named = new Set(parts.flatMap((part) => Object.keys(part.properties ?? {})));
  return [...own, ...Object.keys(value).filter((key) => !named.has(key)).map((key) => `${at}.${key}: not documented`)];
}

function objectDepartures(doc: OpenAPIObject, s: SchemaObject, value: unknown, at: string, open: boolean): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: not an object`];
  const record = value as Record<string, unknown>;
  const properties = s.properties ?? {};
  const missing = (s.required ?? []).filter((key) => !(key in record)).map((key) => `${at}.${key}: missing`);
  const extra = open || s.additionalProperties ? [] : Object.keys(record).filter((key) => !(key in properties)).map((key) => `${at}.${key}: not documented`);
  const nested = Object.entries(properties).flatMap(([key, sub]) => (key in record ? departures(doc, sub, record[key], `${at}.${key}`) : []));
  const additional = typeof s.additionalProperties === 'object' ? Object.entries(record).filter(([key]) => !(key in properties)).flatMap(([key, v]) => departures(doc, s.additionalProperties as Schema, v, `${at}.${key}`)) : [];
  return [...missing, ...extra, ...nested, ...additional];
}
