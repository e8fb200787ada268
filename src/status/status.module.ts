import { Module } from '@nestjs/common';
import { StatusController } from './status.controller.js';

/** Server status and the pool's own endpoints; the pool comes from the global SshPoolModule. */
@Module({ controllers: [StatusController] })
export class StatusModule {}
