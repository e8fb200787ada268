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
export class LeaseLost extends Error {
  constructor() {
    super('lease lost');
  }
}

export interface RunnerDeps {
  pool: SshPoolService;
  store: OperationStore;
  signals: OperationSignals;
  config: OperationsConfig;
  /** Aborted when the service stops: an end that still cannot be stored is left to the lease. */
  giveUp?: AbortSignal;
}

/** A final store write that fails (database away) is tried again until it lands: first after this long… */
const FINISH_RETRY_MS = 1000;
/** …doubling up to this. */
const FINISH_RETRY_MAX_MS = 5000;

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
  /** Stops the command; its reason (CancelRequest, LeaseLost) says how the operation ends. */
  stop?: AbortSignal,
): Promise<OperationStatus> {
  const logger = new Logger('OperationRunner');
  const controller = new AbortController();
  const halt = (reason: Error) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  stop?.addEventListener('abort', () => halt(stop.reason as Error), { once: true });
  const log = new OperationLog(operation.id, deps.store, deps.signals, () => halt(new LeaseLost()));
  const stopListening = deps.signals.on('cancel', operation.id, () => void cancelIfRequested(deps.store, operation.id, halt));
  let final: Omit<FinalState, 'progress' | 'outputTail'>;
  try {
    const { timeoutMs, cancelGraceMs } = deps.config;
    const exit = await deps.pool.stream(target, command, { timeoutMs, termGraceMs: cancelGraceMs, sink: log.sink, signal: controller.signal });
    const error = exit.signal ? { code: 'KILLED_BY_SIGNAL', message: `the command ended by signal ${exit.signal.replace(/^(?!SIG)/, 'SIG')}` } : null;
    final = { status: exit.exitCode === 0 ? 'succeeded' : 'failed', exitCode: exit.exitCode, error, finishedAt: new Date() };
  } catch (error) {
    final = { ...endedBy(error), exitCode: null, finishedAt: new Date() };
    if (!(error instanceof DomainError || error instanceof CancelRequest || error instanceof LeaseLost)) logger.error(`Operation ${operation.id} failed`, error instanceof Error ? error.stack : String(error));
  } finally {
    stopListening();
  }
  logger.log(`Operation ${operation.id} (${operation.action} on server ${operation.serverId}) ${final.status}${final.exitCode !== null ? `, exit ${final.exitCode}` : ''}`);
  await storeFinal(log, final, logger, operation.id, deps.giveUp);
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

/** A cancel notification only wakes the runner: the operation's row must record the request. */
async function cancelIfRequested(store: Pick<OperationStore, 'get'>, id: string, halt: (reason: Error) => void): Promise<void> {
  try {
    const row = await store.get(id);
    if (row?.status === 'running' && row.cancelRequestedAt !== null) halt(new CancelRequest());
  } catch {
    // The database is away: the next lease check reads the row again.
  }
}

/** Tries until the end is stored (or found ended elsewhere): an operation never stays `running` behind a database outage. */
async function storeFinal(log: OperationLog, final: Omit<FinalState, 'progress' | 'outputTail'>, logger: Logger, id: string, giveUp?: AbortSignal): Promise<void> {
  for (let attempt = 1, delayMs = FINISH_RETRY_MS; ; attempt++, delayMs = Math.min(delayMs * 2, FINISH_RETRY_MAX_MS)) {
    try {
      if (!(await log.finish(final))) logger.warn(`Operation ${id} had already been ended by another replica (its lease ran out)`);
      return;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (giveUp?.aborted) return logger.error(`Could not store the end of operation ${id} before the service stopped (${reason}); its lease will end it as interrupted`);
      logger.warn(`Could not store the end of operation ${id} (attempt ${attempt}, retrying in ${delayMs} ms): ${reason}`);
      await pause(delayMs, giveUp);
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
