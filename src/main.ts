import 'reflect-metadata';
import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { configureApp, HTTP_APP_OPTIONS } from './app.setup.js';
import { type AppConfig, toAppConfig } from './config/configuration.js';
import { InvalidEnvironmentError, validateEnvironment } from './config/environment.js';
import { KeyDirError, prepareKeyDir } from './config/key-dir.js';
import { startHealthListener } from './edge/health-listener.js';
import { startInternalTransport } from './transport/internal-transport.js';

const LEVELS: Record<string, LogLevel[]> = {
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  verbose: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

async function bootstrap(): Promise<void> {
  // Validate before Nest starts so that a bad environment is one clear message, not a stack trace.
  const env = validateEnvironment(process.env);
  const logger = new ConsoleLogger({ json: true, logLevels: LEVELS[env.LOG_LEVEL] });
  const { keyDir } = toAppConfig(env).ssh;
  if ((await prepareKeyDir(keyDir)) === 'created') logger.log(`SSH_KEY_DIR ${keyDir} created (mode 0700): put sshKeyPath files there`, 'Bootstrap');
  const app = configureApp(await NestFactory.create<NestExpressApplication>(AppModule, { ...HTTP_APP_OPTIONS, logger }));
  // SIGTERM/SIGINT run the lifecycle hooks (the pool drains), then exit 0 as the contract requires;
  // without useProcessExit Nest re-raises the signal and the process ends with 143.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  const config = app.get(ConfigService<AppConfig, true>);
  const { port, host, healthPort } = config.get('http', { infer: true });
  await app.init();
  // The same process and shutdown serve both: app.close() stops the TCP transport after the pool drained.
  const tcpPort = await startInternalTransport(app);
  if (tcpPort !== null) logger.log(`Internal TCP transport listening on ${host}:${tcpPort}`, 'Bootstrap');
  await app.listen(port, host);
  logger.log(`HTTP listening on ${host}:${port}`, 'Bootstrap');
  if (healthPort !== 0) {
    await startHealthListener(app, healthPort, host, config.get('edge', { infer: true }));
    logger.log(`Health and metrics listening on ${host}:${healthPort}`, 'Bootstrap');
  }
}

bootstrap().catch((error: unknown) => {
  if (error instanceof InvalidEnvironmentError || error instanceof KeyDirError) {
    console.error(error.message);
  } else {
    console.error(error);
  }
  process.exit(1);
});
