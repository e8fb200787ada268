import type { Logger } from '@nestjs/common';
import type { SshConfig } from '../config/configuration.js';
import type { ConnectBackoff } from './connect-backoff.js';
import type { ConnectionKey } from './connection-key.js';
import type { HostKeyStore } from './host-key-store.js';
import { verifyHostKey } from './host-key-verifier.js';
import type { KeyDecoder } from './key-decoder.js';
import type { PoolCounters } from './pool-counters.js';
import type { ConnectAuth, SshConnection, SshConnector } from './ssh-connector.js';
import { SshPoolError, SshPoolErrorCode } from './ssh-pool.errors.js';
import type { SshAuth, SshTarget } from './ssh-pool.types.js';
import type { TargetPolicy } from './target-policy.js';

/** What a dial needs besides the connector: host keys, config, and the checks made before any packet is sent. */
export interface DialerDeps {
  connector: SshConnector;
  hostKeys: HostKeyStore;
  keys: KeyDecoder;
  targets: TargetPolicy;
}

/**
 * Opens one connection for a key: key decoding (off the event loop), target policy, host-key policy,
 * keepalive, and the bookkeeping of the outcome. Only network and handshake failures feed the backoff:
 * an unusable key or a forbidden target is the caller's error, not the host's.
 */
export class PoolDialer {
  /** Ask the connector for spare channels (SSH_SPARE_CHANNELS, pooled only). */
  spareChannels = false;
  private warnedNoSpares = false;

  constructor(
    private readonly deps: DialerDeps,
    private readonly ssh: SshConfig,
    private readonly backoff: ConnectBackoff,
    private readonly counters: PoolCounters,
    private readonly logger: Logger,
  ) {}

  /**
   * @throws SshPoolError SSH_KEY_INVALID, SSH_TARGET_FORBIDDEN (neither counts against the host), or
   *   from the handshake, already classified by the connector (SSH_UNREACHABLE with one generic message)
   */
  async dial(target: SshTarget, key: ConnectionKey): Promise<SshConnection> {
    const auth = await this.decodedAuth(target.auth);
    const pin = { host: key.host, port: key.port, pinned: target.hostKeyFingerprint };
    const started = performance.now();
    try {
      const address = await this.deps.targets.resolve(target.host, key.hostId);
      const connection = await this.deps.connector.connect({
        host: target.host,
        address,
        port: target.port,
        username: target.username,
        auth,
        readyTimeoutMs: this.ssh.readyTimeoutMs,
        keepaliveIntervalMs: this.ssh.keepaliveIntervalMs,
        keepaliveCountMax: this.ssh.keepaliveCountMax,
        verifyHostKey: (blob) => verifyHostKey(this.deps.hostKeys, this.ssh.hostKeyPolicy, pin, blob, new Date()),
        spareChannels: this.spareChannels,
      });
      this.warnIfNoSpares(connection);
      this.counters.recordConnect(started);
      this.backoff.recordSuccess(key);
      this.logger.log(`Created new SSH connection: ${key}`);
      return connection;
    } catch (error) {
      if (error instanceof SshPoolError && error.code === SshPoolErrorCode.TARGET_FORBIDDEN) {
        this.logger.warn(`SSH connect refused by SSH_TARGET_ALLOW/SSH_TARGET_DENY: ${key}`);
        throw error;
      }
      const failure = this.publicFailure(error, key);
      this.counters.recordConnect(started, failure.code);
      this.backoff.recordFailure(key, failure, Date.now());
      throw failure;
    }
  }

  private warnIfNoSpares(connection: SshConnection): void {
    if (!this.spareChannels || connection.openSpare || this.warnedNoSpares) return;
    this.warnedNoSpares = true;
    this.logger.warn('SSH spare channels unavailable (ssh2 feature test did not pass): two round trips per command');
  }

  /** @throws SshKeyInvalidError */
  private async decodedAuth(auth: SshAuth): Promise<ConnectAuth> {
    if (auth.type === 'PASSWORD') return auth;
    try {
      return { type: 'KEY_FILE', privateKey: await this.deps.keys.decode(auth.privateKey, auth.passphrase) };
    } catch (error) {
      this.logger.warn(`SSH private key unusable: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }

  /** The errno (refused, reset, not SSH) goes to the log only: the answer must not tell a closed port from an open one. */
  private publicFailure(error: unknown, key: ConnectionKey): SshPoolError {
    const detail = error instanceof Error ? error.message : String(error);
    this.logger.warn(`SSH connect failed: ${key}: ${error instanceof SshPoolError ? `${error.code}: ` : ''}${detail}`);
    if (error instanceof SshPoolError && error.code !== SshPoolErrorCode.UNREACHABLE) return error;
    return new SshPoolError(SshPoolErrorCode.UNREACHABLE, `cannot reach ${key.username}@${key.hostId} over SSH`);
  }
}
