import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CommonModule } from './common/common.module.js';
import { validateConfig } from './config/configuration.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { IdempotencyModule } from './idempotency/idempotency.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { OperationsModule } from './operations/operations.module.js';
import { HostKeyEntity } from './servers/host-key.entity.js';
import { ServersModule } from './servers/servers.module.js';
import { TypeOrmHostKeyStore } from './servers/typeorm-host-key.store.js';
import { SshPoolModule } from './ssh-pool/ssh-pool.module.js';
import { StatusModule } from './status/status.module.js';
import { TransportModule } from './transport/transport.module.js';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: validateConfig }),
    ScheduleModule.forRoot(),
    DatabaseModule,
    SshPoolModule.forRoot({ imports: [TypeOrmModule.forFeature([HostKeyEntity])], hostKeyStore: TypeOrmHostKeyStore }),
    CommonModule,
    IdempotencyModule,
    ServersModule,
    StatusModule,
    OperationsModule,
    TransportModule,
    HealthModule,
    MetricsModule,
  ],
})
export class AppModule {}
