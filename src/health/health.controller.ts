import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { ApiErrors } from '../openapi/api-errors.js';
import { Public } from '../common/public.decorator.js';
import { SshPoolHealthIndicator } from '../ssh-pool/ssh-pool.health.js';
import { LiveResponseDto, ReadinessReportDto } from './health.dto.js';
import { NotReadyError } from './health.errors.js';

/** Kubernetes probes. Unauthenticated by contract; they reveal counts, never hosts or keys. */
@Public()
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly pool: SshPoolHealthIndicator,
    private readonly database: TypeOrmHealthIndicator,
  ) {}

  /** The event loop answers: no I/O, so a slow database or SSH host never restarts the pod. */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the event loop answers (no I/O)' })
  @ApiOkResponse({ type: LiveResponseDto })
  @ApiErrors()
  live(): LiveResponseDto {
    return { status: 'ok' };
  }

  /** 503 `NOT_READY` (terminus' report in `details`) while shutting down or when the database does not answer. */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the pool and the database indicators', description: 'NOT_READY carries terminus’ report in `details`.' })
  @ApiOkResponse({ type: ReadinessReportDto })
  @ApiErrors('NOT_READY')
  // Terminus documents itself only where it can `require` @nestjs/swagger (not under jest's ESM
  // runtime), and with its own 503 body: documented here instead, the same on every path.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  async ready() {
    try {
      return await this.health.check([() => this.pool.isHealthy('ssh_pool'), () => this.database.pingCheck('database', { timeout: 1000 })]);
    } catch (error) {
      if (error instanceof ServiceUnavailableException) throw new NotReadyError(error.getResponse());
      throw error;
    }
  }
}
