import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../common/public.decorator.js';
import { SshPoolHealthIndicator } from '../ssh-pool/ssh-pool.health.js';
import { NotReadyError } from './health.errors.js';

/** Kubernetes probes. Unauthenticated by contract; they reveal counts, never hosts or keys. */
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly pool: SshPoolHealthIndicator,
    private readonly database: TypeOrmHealthIndicator,
  ) {}

  /** The event loop answers: no I/O, so a slow database or SSH host never restarts the pod. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 503 `NOT_READY` (terminus' report in `details`) while shutting down or when the database does not answer. */
  @Get('ready')
  @HealthCheck()
  async ready() {
    try {
      return await this.health.check([() => this.pool.isHealthy('ssh_pool'), () => this.database.pingCheck('database', { timeout: 1000 })]);
    } catch (error) {
      if (error instanceof ServiceUnavailableException) throw new NotReadyError(error.getResponse());
      throw error;
    }
  }
}
