import type { SshPoolErrorCode } from './ssh-pool.errors.js';

/**
 * Receives the timings the pool measures (the metrics module implements it). Counts that the pool
 * keeps anyway (hits, evictions, …) are read from `getStats()` instead; this carries only what a
 * snapshot cannot: individual durations and the code each connect failed with.
 * Implementations must be cheap and must not throw: they run on the pool's hot path.
 */
export interface PoolObserver {
  /** One connect attempt (TCP, handshake, auth) ended; `failure` is its error code when it failed. */
  connectFinished(seconds: number, failure?: SshPoolErrorCode): void;
  /** One `exec` call ended (queueing, connecting and running); `failure` when it threw. */
  execFinished(seconds: number, failure?: SshPoolErrorCode | 'error'): void;
}

export const NO_POOL_OBSERVER: PoolObserver = {
  connectFinished: () => undefined,
  execFinished: () => undefined,
};
