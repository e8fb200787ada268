import { Logger } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import type { OperationsConfig } from '../config/configuration.js';
import { SshPoolError, SshPoolErrorCode } from '../ssh-pool/ssh-pool.errors.js';
import type { SshPoolService } from '../ssh-pool/ssh-pool.service.js';
import type { SshTarget } from '../ssh-pool/ssh-pool.types.js';
import { OperationLog } from './operation-log.js';
import type { OperationSignals } from './operation-signals.js';
import type { FinalState, OperationStore } from './operation-store.js';
import type { OperationEntity, OperationStatus } from './operation.entity.js';

/** Why an operation's command was stopped on purpose: a user's cancel. */
export class CancelRequest extends Error {
  constructor() {
    super('cancelled on request');
  }
}

/**
 * Another replica declared the operation interrupted (this one could not renew its lease, e.g. the
 * database was away): the command stops, so that no second operation of the server overlaps it.
 */
class LeaseLost extends Error {}

export interface RunnerDeps {
  pool: SshPoolService;
  store: OperationStore;
  signals: OperationSignals;
  config: OperationsConfig;
}

/** A final store write that fails (database away) is tried again this often, this many times. */
const FINISH_ATTEMPTS = 10;
const FINISH_RETRY_MS = 2000;

/**
 * Runs one operation's command to its end and stores how it ended. A cancel (from any replica) stops
 * the remote process group; the pool shutting down leaves it `interrupted`. Never throws.
 * @returns how it ended
 */
export async function runOperation(
  deps: RunnerDeps,
  operation: OperationEntity,
  target: SshTarget,
  command: string,
  /** Fires when the owner finds the operation ended elsewhere without writing (its lease check). */
  lost?: AbortSignal,
): Promise<OperationStatus> {
  const logger = new Logger('OperationRunner');
  const controller = new AbortController();
  lost?.addEventListener('abort', () => controller.abort(new LeaseLost('lease lost')), { once: true });
  const log = new OperationLog(operation.id, deps.store, deps.signals, () => controller.abort(new LeaseLost('lease lost')));
  const stopListening = deps.signals.on('cancel', operation.id, () => controller.abort(new CancelRequest()));
  let final: Omit<FinalState, 'progress' | 'outputTail'>;
  try {
    const { timeoutMs, cancelGraceMs } = deps.config;
    const exit = await deps.pool.stream(target, command, { timeoutMs, termGraceMs: cancelGraceMs, sink: log.sink, signal: controller.signal });
    const error = exit.signal ? { code: 'KILLED_BY_SIGNAL', message: `the command ended by signal SIG${exit.signal}` } : null;
    final = { status: exit.exitCode === 0 ? 'succeeded' : 'failed', exitCode: exit.exitCode, error, finishedAt: new Date() };
  } catch (error) {
    final = { ...endedBy(error), exitCode: null, finishedAt: new Date() };
    if (!(error instanceof DomainError || error instanceof CancelRequest || error instanceof LeaseLost)) logger.error(`Operation ${operation.id} failed`, error instanceof Error ? error.stack : String(error));
  } finally {
    stopListening();
  }
  logger.log(`Operation ${operation.id} (${operation.action} on server ${operation.serverId}) ${final.status}${final.exitCode !== null ? `, exit ${final.exitCode}` : ''}`);
  await storeFinal(log, final, logger, operation.id);
  return final.status;
}

function endedBy(error: unknown): Pick<FinalState, 'status' | 'error'> {
  if (error instanceof CancelRequest) return { status: 'cancelled', error: null };
  if (error instanceof SshPoolError && error.code === SshPoolErrorCode.SHUTTING_DOWN) {
    return { status: 'interrupted', error: { code: error.code, message: 'the service shut down while the operation ran' } };
  }
  if (error instanceof DomainError) return { status: 'failed', error: { code: error.code, message: error.message } };
  return { status: 'failed', error: { code: 'INTERNAL_ERROR', message: 'the operation failed unexpectedly (see the service log)' } };
}

async function storeFinal(log: OperationLog, final: Omit<FinalState, 'progress' | 'outputTail'>, logger: Logger, id: string): Promise<void> {
  for (let attempt = 1; attempt <= FINISH_ATTEMPTS; attempt++) {
    try {
      if (!(await log.finish(final))) logger.warn(`Operation ${id} had already been ended by another replica (its lease ran out)`);
      return;
    } catch (error) {
      logger.warn(`Could not store the end of operation ${id} (attempt ${attempt}): ${error instanceof Error ? error.message : error}`);
      await new Promise((resolve) => setTimeout(resolve, FINISH_RETRY_MS));
    }
  }
}
