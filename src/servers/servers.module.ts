import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { credentialsCipherProvider } from './credentials-key.js';
import { ServerEntity } from './server.entity.js';
import { ServersController } from './servers.controller.js';
import { ServerInputChecks } from './server-input-checks.js';
import { ServersService } from './servers.service.js';
import { SshKeyFiles } from './ssh-key-files.js';
import { SshTargetFactory } from './ssh-target.factory.js';

/** The server registry: CRUD, encrypted credentials, and exec through the pool (SshPoolModule is global). */
@Module({
  imports: [TypeOrmModule.forFeature([ServerEntity])],
  controllers: [ServersController],
  providers: [credentialsCipherProvider, SshKeyFiles, SshTargetFactory, ServerInputChecks, ServersService],
  exports: [ServersService],
})
export class ServersModule {}
