import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../config/configuration.js';
import { credentialsCipherProvider } from './credentials-key.js';
import { HostKeyEntity } from './host-key.entity.js';
import { ServerChanges } from './server-changes.js';
import { ServerEntity } from './server.entity.js';
import { ServerResponses } from './server-responses.js';
import { ServerTargetCache } from './server-target-cache.js';
import { ServersController } from './servers.controller.js';
import { ServerInputChecks } from './server-input-checks.js';
import { ServersService } from './servers.service.js';
import { SshKeyFiles } from './ssh-key-files.js';
import { SshTargetFactory } from './ssh-target.factory.js';

/** The server registry: CRUD, encrypted credentials, and exec through the pool (SshPoolModule is global). */
@Module({
  imports: [TypeOrmModule.forFeature([ServerEntity, HostKeyEntity])],
  controllers: [ServersController],
  providers: [
    credentialsCipherProvider,
    SshKeyFiles,
    SshTargetFactory,
    ServerInputChecks,
    {
      provide: ServerTargetCache,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => new ServerTargetCache(config.get('servers', { infer: true }).targetCacheTtlMs),
    },
    ServerChanges,
    ServersService,
    ServerResponses,
  ],
  exports: [ServersService, ServerResponses],
})
export class ServersModule {}
