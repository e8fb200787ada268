import { NotFoundException } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { errorBody } from '../common/error-response.js';
import { guardHttpServer, type HttpConnectionLimits } from './http-connections.js';

/** Kubelet's probes and a Prometheus scraper: a handful of connections at most. */
export const HEALTH_MAX_CONNECTIONS = 32;
const SERVED = /^\/(?:health\/|metrics(?:[/?]|$))/i;

function notHere(request: IncomingMessage, response: ServerResponse): void {
  const body = errorBody(new NotFoundException(`Only /health/* and /metrics answer on this port, not ${request.method} ${request.url}`), randomUUID());
  response.writeHead(404, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

/**
 * `/health/*` and `/metrics`, answered by the same application on a listener of their own, with its
 * own connection cap: clients filling the API's listener (HTTP_MAX_CONNECTIONS) cannot starve the
 * probes, so Kubernetes does not restart a pod that is only busy. Everything else answers 404 here.
 */
export async function startHealthListener(app: NestExpressApplication, port: number, host: string, limits: HttpConnectionLimits): Promise<Server> {
  const handle = app.getHttpAdapter().getInstance() as RequestListener;
  const server = createServer((request, response) => (SERVED.test(request.url ?? '') ? handle(request, response) : notHere(request, response)));
  guardHttpServer(server, HEALTH_MAX_CONNECTIONS, limits);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
