import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ERROR_TRANSLATOR } from '../common/error-translator.js';
import type { AppConfig } from '../config/configuration.js';
import { openDataSource } from './data-source.js';
import { translateDatabaseError } from './database-errors.js';
import { dataSourceOptions } from './database-options.js';

/**
 * The TypeORM data source (SQLite by default, PostgreSQL by URL); migrations run before the app serves.
 * A database out of reach answers 503 DATABASE_UNAVAILABLE.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => ({
        ...dataSourceOptions(config.get('database', { infer: true }).url),
        retryAttempts: 3,
        retryDelay: 1000,
      }),
      dataSourceFactory: (options) => openDataSource(options!),
    }),
  ],
  // Global: the error filter (CommonModule) asks this translator without importing the module.
  providers: [{ provide: ERROR_TRANSLATOR, useValue: translateDatabaseError }],
  exports: [ERROR_TRANSLATOR],
})
export class DatabaseModule {}
