import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../config/configuration.js';
import { openDataSource } from './data-source.js';
import { dataSourceOptions } from './database-options.js';
import { DatabaseUnavailableInterceptor } from './database-unavailable.interceptor.js';

/**
 * The TypeORM data source (SQLite by default, PostgreSQL by URL); migrations run before the app serves.
 * A database out of reach answers 503 DATABASE_UNAVAILABLE.
 */
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
  providers: [{ provide: APP_INTERCEPTOR, useClass: DatabaseUnavailableInterceptor }],
})
export class DatabaseModule {}
