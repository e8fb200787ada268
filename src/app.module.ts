import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { validateConfig } from './config/configuration.js';
import { SshPoolModule } from './ssh-pool/ssh-pool.module.js';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: validateConfig }),
    ScheduleModule.forRoot(),
    SshPoolModule.forRoot(),
  ],
})
export class AppModule {}
