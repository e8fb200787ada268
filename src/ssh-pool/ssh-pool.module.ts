import { Module, type DynamicModule, type ModuleMetadata, type Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import type { AppConfig } from '../config/configuration.js';
import { HOST_KEY_STORE, InMemoryHostKeyStore, type HostKeyStore } from './host-key-store.js';
import { KeyDecoder } from './key-decoder.js';
import { SshConnector } from './ssh-connector.js';
import { SshPoolHealthIndicator } from './ssh-pool.health.js';
import { SshPoolService } from './ssh-pool.service.js';
import { TargetPolicy } from './target-policy.js';

export interface SshPoolModuleOptions {
  /** Modules the host-key store needs (e.g. TypeOrmModule.forFeature). */
  imports?: ModuleMetadata['imports'];
  /** Where accepted host keys are remembered; in memory by default. */
  hostKeyStore?: Type<HostKeyStore>;
}

/** Provides the SSH pool (the only code that talks SSH) and its health indicator to the whole app. */
@Module({})
export class SshPoolModule {
  static forRoot(options: SshPoolModuleOptions = {}): DynamicModule {
    return {
      module: SshPoolModule,
      global: true,
      imports: [TerminusModule, ...(options.imports ?? [])],
      providers: [
        SshConnector,
        SshPoolService,
        SshPoolHealthIndicator,
        KeyDecoder,
        {
          provide: TargetPolicy,
          useFactory: (config: ConfigService<AppConfig, true>) => new TargetPolicy(config.get('ssh', { infer: true }).targets),
          inject: [ConfigService],
        },
        { provide: HOST_KEY_STORE, useClass: options.hostKeyStore ?? InMemoryHostKeyStore },
      ],
      // KeyDecoder and TargetPolicy let the registry refuse a bad key or a forbidden address at create/patch.
      exports: [SshPoolService, SshPoolHealthIndicator, KeyDecoder, TargetPolicy],
    };
  }
}
