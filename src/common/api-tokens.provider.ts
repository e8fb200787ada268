import { type FactoryProvider, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AppConfig } from '../config/configuration.js';
import { readOrCreateSecretFile } from './secret-file.js';

export const API_TOKENS = Symbol('API_TOKENS');

const logger = new Logger('ApiTokens');

/** `API_TOKENS`, or the token generated once into `<DATA_DIR>/api-token`; its location is logged, never its value. */
export async function loadApiTokens(configured: string[] | null, dataDir: string): Promise<readonly string[]> {
  if (configured) {
    logger.log(`API authentication: ${configured.length} token(s) from API_TOKENS`);
    return configured;
  }
  const file = await readOrCreateSecretFile(join(dataDir, 'api-token'), () => randomBytes(32).toString('base64url'));
  const verb = file.created ? 'generated' : 'read';
  logger.log(`API authentication: API_TOKENS is not set; token ${verb} at ${file.path}`);
  if (file.permissive) {
    logger.warn(`${file.path} is readable by other users; it should be mode 0600`);
  }
  return [file.value];
}

export const apiTokensProvider: FactoryProvider<Promise<readonly string[]>> = {
  provide: API_TOKENS,
  inject: [ConfigService],
  useFactory: (config: ConfigService<AppConfig, true>) =>
    loadApiTokens(config.get('security', { infer: true }).apiTokens, config.get('storage', { infer: true }).dataDir),
};
