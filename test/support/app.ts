// Boots the real AppModule over HTTP for e2e specs, with an environment of the spec's choosing.
import type { LoggerService } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import type { Server } from 'node:http';
import request from 'supertest';
import { AppModule } from '../../src/app.module.js';
import { configureApp, HTTP_APP_OPTIONS } from '../../src/app.setup.js';
import { validateConfig } from '../../src/config/configuration.js';
import { startInternalTransport } from '../../src/transport/internal-transport.js';
import { scratchDir } from './databases.js';

export const TEST_TOKEN = 'e2e-token-0123456789abcdef';

export interface TestApp {
  app: NestExpressApplication;
  /** Unauthenticated client. */
  http: request.Agent;
  /** `Authorization: Bearer <TEST_TOKEN>` on every request. */
  api: request.Agent;
  close(): Promise<void>;
}

/**
 * AppModule's ConfigModule validated process.env at import; the spec's environment replaces that
 * ConfigService, so each spec (and each database of a describe.each) gets its own configuration.
 */
export async function createTestApp(env: Record<string, string>, options: { logger?: LoggerService } = {}): Promise<TestApp> {
  const config = validateConfig({ DATA_DIR: scratchDir('data'), API_TOKENS: TEST_TOKEN, INTERNAL_TCP_PORT: '0', ...env });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(ConfigService)
    .useValue(new ConfigService(config))
    .compile();
  const app = configureApp(moduleRef.createNestApplication<NestExpressApplication>({ ...HTTP_APP_OPTIONS, logger: options.logger ?? ['error'] }));
  await app.init();
  // Like main.ts: the TCP transport listens when the spec sets INTERNAL_TCP_PORT (a free port).
  await startInternalTransport(app);
  const server = app.getHttpServer() as Server;
  return {
    app,
    http: request.agent(server),
    api: request.agent(server).auth(TEST_TOKEN, { type: 'bearer' }),
    close: () => app.close(),
  };
}

/** A valid POST /api/servers body; override what the test is about. */
export function serverBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `srv-${Math.random().toString(36).slice(2, 10)}`,
    host: '10.0.0.5',
    sshPort: 22,
    sshUser: 'cs2',
    authType: 'PASSWORD',
    sshPassword: 'correct horse battery staple',
    gameDirectory: '/home/cs2/serverfiles',
    gamePort: 27015,
    ...overrides,
  };
}

/** The contract's error body, for `toMatchObject`. */
export function errorBody(statusCode: number, code: string): Record<string, unknown> {
  return { statusCode, code, message: expect.any(String), correlationId: expect.any(String) };
}

/** Every log line at every level, for asserting what the service never logs. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  private record = (...parts: unknown[]) => {
    this.lines.push(parts.map((p) => (p instanceof Error ? `${p.message} ${p.stack}` : typeof p === 'string' ? p : JSON.stringify(p))).join(' '));
  };
  log = this.record;
  error = this.record;
  warn = this.record;
  debug = this.record;
  verbose = this.record;
  fatal = this.record;
}
