import type { Logger } from '@nestjs/common';
import type { SshConfig } from '../config/configuration.js';
import type { ConnectBackoff } from './connect-backoff.js';
import type { ConnectionKey } from './connection-key.js';
import type { HostKeyStore } from './host-key-store.js';
import { verifyHostKey } from './host-key-verifier.js';
import type { PoolCounters } from './pool-counters.js';
import type { SshConnection, SshConnector } from './ssh-connector.js';
import { SshPoolError, SshPoolErrorCode } from './ssh-pool.errors.js';
import type { SshTarget } from './ssh-pool.types.js';

/** Opens one connection for a key: host-key policy, keepalive, and the bookkeeping of the outcome. */
export class PoolDialer {
  constructor(
    private readonly connector: SshConnector,
    private readonly hostKeys: HostKeyStore,
    private readonly ssh: SshConfig,
    private readonly backoff: ConnectBackoff,
    private readonly counters: PoolCounters,
    private readonly logger: Logger,
  ) {}

  /** @throws SshPoolError from the handshake, already classified by the connector */
  async dial(target: SshTarget, key: ConnectionKey): Promise<SshConnection> {
    const pin = { host: key.host, port: key.port, pinned: target.hostKeyFingerprint };
    const started = performance.now();
    try {
      const connection = await this.connector.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        auth: target.auth,
        readyTimeoutMs: this.ssh.readyTimeoutMs,
        keepaliveIntervalMs: this.ssh.keepaliveIntervalMs,
        keepaliveCountMax: this.ssh.keepaliveCountMax,
        verifyHostKey: (blob) => verifyHostKey(this.hostKeys, this.ssh.hostKeyPolicy, pin, blob, new Date()),
      });
      this.counters.recordConnect(started);
      this.backoff.recordSuccess(key);
      this.logger.log(`Created new SSH connection: ${key}`);
      return connection;
    } catch (error) {
      const failure = error instanceof SshPoolError ? error : new SshPoolError(SshPoolErrorCode.UNREACHABLE, `cannot connect to ${key.hostId}`);
      this.counters.recordConnect(started, failure.code);
      this.backoff.recordFailure(key, failure, Date.now());
      this.logger.warn(`SSH connect failed: ${key}: ${failure.code}`);
      throw failure;
    }
  }
}
