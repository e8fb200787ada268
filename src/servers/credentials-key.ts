import { type FactoryProvider, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AppConfig } from '../config/configuration.js';
import { readOrCreateSecretFile } from '../common/secret-file.js';
import { CredentialsCipher } from './credentials-cipher.js';

const logger = new Logger('CredentialsKey');

function decodeKey(base64: string, source: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) {
    throw new Error(`${source} must hold base64 of 32 bytes, it decodes to ${key.length}`);
  }
  return key;
}

/** CREDENTIALS_KEY, or a key generated once into `<DATA_DIR>/credentials.key` (0600) with a warning. */
export async function loadCredentialsKey(configured: string | null, dataDir: string): Promise<Buffer> {
  if (configured) return decodeKey(configured, 'CREDENTIALS_KEY');
  const file = await readOrCreateSecretFile(join(dataDir, 'credentials.key'), () => randomBytes(32).toString('base64'));
  logger.warn(
    `CREDENTIALS_KEY is not set: SSH secrets are encrypted with the key ${file.created ? 'generated' : 'read'} at ` +
      `${file.path}. Production must supply CREDENTIALS_KEY (losing this file makes stored secrets unreadable).`,
  );
  if (file.permissive) logger.warn(`${file.path} is readable by other users; it should be mode 0600`);
  return decodeKey(file.value, file.path);
}

export const credentialsCipherProvider: FactoryProvider<Promise<CredentialsCipher>> = {
  provide: CredentialsCipher,
  inject: [ConfigService],
  useFactory: async (config: ConfigService<AppConfig, true>) =>
    new CredentialsCipher(
      await loadCredentialsKey(config.get('security', { infer: true }).credentialsKey, config.get('storage', { infer: true }).dataDir),
    ),
};
