import { Module, type DynamicModule, type ModuleMetadata, type Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HOST_KEY_STORE, InMemoryHostKeyStore, type HostKeyStore } from './host-key-store.js';
import { SshConnector } from './ssh-connector.js';
import { SshPoolHealthIndicator } from './ssh-pool.health.js';
import { SshPoolService } from './ssh-pool.service.js';

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
        { provide: HOST_KEY_STORE, useClass: options.hostKeyStore ?? InMemoryHostKeyStore },
      ],
      exports: [SshPoolService, SshPoolHealthIndicator],
    };
  }
}
