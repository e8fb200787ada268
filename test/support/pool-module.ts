import type { LoggerService } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { validateConfig } from '../../src/config/configuration.js';
import { SshConnector } from '../../src/ssh-pool/ssh-connector.js';
import { SshPoolModule } from '../../src/ssh-pool/ssh-pool.module.js';
import { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import { TargetPolicy } from '../../src/ssh-pool/target-policy.js';

/** Fake hosts ('game-host') do not resolve: a fake connector gets a policy whose DNS answers TEST-NET-1. */
const fakeDns = (env: Record<string, string>) => new TargetPolicy(validateConfig(env).ssh.targets, async () => ['192.0.2.10']);

/**
 * Boots SshPoolModule alone with the given environment (only these variables; defaults otherwise),
 * optionally with a replacement connector and a logger to capture what the pool logs.
 */
export async function createPool(env: Record<string, string> = {}, connector?: object, logger: LoggerService | false = false) {
  let builder = Test.createTestingModule({
    imports: [
      ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: () => validateConfig(env) }),
      ScheduleModule.forRoot(),
      SshPoolModule.forRoot(),
    ],
  });
  if (connector) builder = builder.overrideProvider(SshConnector).useValue(connector).overrideProvider(TargetPolicy).useValue(fakeDns(env));
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ logger });
  await app.init();
  return { app, pool: app.get(SshPoolService) };
}
