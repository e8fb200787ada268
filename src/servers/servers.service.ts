import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { Repository } from 'typeorm';
import { isUniqueViolation } from '../database/database-errors.js';
import { SshPoolService } from '../ssh-pool/ssh-pool.service.js';
import type { ExecResult, SshTarget } from '../ssh-pool/ssh-pool.types.js';
import { CredentialsCipher } from './credentials-cipher.js';
import { applyAuthPlan, planAuth } from './server-auth.js';
import { ServerChanges } from './server-changes.js';
import { ServerTargetCache } from './server-target-cache.js';
import { ServerEntity } from './server.entity.js';
import { ServerInputChecks } from './server-input-checks.js';
import type { CreateServerDto, ExecCommandDto, UpdateServerDto } from './servers.dto.js';
import { ServerError, ServerErrorCode } from './servers.errors.js';
import { type PreparedTarget, SshTargetFactory } from './ssh-target.factory.js';

type PlainField = 'name' | 'host' | 'sshPort' | 'sshUser' | 'gameDirectory' | 'gamePort' | 'description' | 'hostKeyFingerprint' | 'controlScript';
const PLAIN_FIELDS: readonly PlainField[] = ['name', 'host', 'sshPort', 'sshUser', 'gameDirectory', 'gamePort', 'description', 'hostKeyFingerprint', 'controlScript'];

/** Everything that decides which SSH connection a server may use; a change takes it off its old one. */
function connectionSignature(server: ServerEntity): string {
  const { host, sshPort, sshUser, authType, sshKeyPath, hostKeyFingerprint } = server;
  const secrets = [server.sshPasswordEnc, server.sshPrivateKeyEnc, server.sshKeyPassphraseEnc];
  return JSON.stringify([host, sshPort, sshUser, authType, sshKeyPath, hostKeyFingerprint, ...secrets]);
}

/** A server with the SSH target built from it, or the reason it could not be built. */
export type ServerWithTarget = { server: ServerEntity; target: SshTarget } | { server: ServerEntity; error: ServerError };

/** Fingerprints are compared in OpenSSH's unpadded form. */
const normalizeFingerprint = (value: string | null | undefined) => (typeof value === 'string' ? value.replace(/=+$/, '') : value);

@Injectable()
export class ServersService {
  private readonly logger = new Logger(ServersService.name);

  constructor(
    @InjectRepository(ServerEntity) private readonly servers: Repository<ServerEntity>,
    private readonly cipher: CredentialsCipher,
    private readonly targets: SshTargetFactory,
    private readonly pool: SshPoolService,
    private readonly checks: ServerInputChecks,
    private readonly cache: ServerTargetCache,
    private readonly changes: ServerChanges,
  ) {}

  list(): Promise<ServerEntity[]> {
    return this.servers.find({ order: { name: 'ASC' } });
  }

  /** Every server (by name) with its target; one unreadable key file or secret spoils no other server. */
  async listWithTargets(): Promise<ServerWithTarget[]> {
    const servers = await this.list();
    return Promise.all(
      servers.map(async (server): Promise<ServerWithTarget> => {
        try {
          return { server, target: await this.targets.build(server) };
        } catch (error) {
          if (error instanceof ServerError) return { server, error };
          throw error;
        }
      }),
    );
  }

  /** The server and its SSH target, both from one read of its record. @throws ServerError SERVER_NOT_FOUND and as SshTargetFactory.build */
  async withTarget(id: string): Promise<{ server: ServerEntity; target: SshTarget }> {
    const server = await this.get(id);
    return { server, target: await this.targets.build(server) };
  }

  /** @throws ServerError SERVER_NOT_FOUND */
  async get(id: string): Promise<ServerEntity> {
    const server = await this.servers.findOneBy({ id });
    if (!server) throw ServerError.notFound(id);
    return server;
  }

  /** @throws RequestValidationError (also for a key that does not decode, a path outside SSH_KEY_DIR, a forbidden host), ServerError SERVER_NAME_TAKEN */
  async create(dto: CreateServerDto): Promise<ServerEntity> {
    const plan = planAuth(null, dto);
    await this.checks.check(null, dto, plan);
    const server = this.servers.create({ id: randomUUID(), sshPort: 22, gamePort: 27015, description: null, hostKeyFingerprint: null, controlScript: null });
    this.assignPlainFields(server, dto);
    applyAuthPlan(server, plan, this.cipher);
    const saved = await this.save(server);
    this.logger.log(`Server created: ${saved.name} (${saved.id}) ${saved.sshUser}@${saved.host}:${saved.sshPort}`);
    return saved;
  }

  /** @throws RequestValidationError, ServerError SERVER_NOT_FOUND, SERVER_NAME_TAKEN */
  async update(id: string, dto: UpdateServerDto): Promise<ServerEntity> {
    const server = await this.get(id);
    const before = connectionSignature(server);
    const plan = planAuth(server, dto);
    await this.checks.check(server, dto, plan);
    this.assignPlainFields(server, dto);
    applyAuthPlan(server, plan, this.cipher);
    const saved = await this.save(server);
    const detach = connectionSignature(saved) !== before;
    if (detach) this.logger.log(`Server ${saved.name} (${id}): connection settings changed, leaving its pooled connection`);
    await this.changes.publish(id, { detach });
    return saved;
  }

  /** @throws ServerError SERVER_NOT_FOUND, OPERATION_IN_PROGRESS */
  async remove(id: string): Promise<void> {
    const server = await this.get(id);
    // Read by table name: the operations module builds on this one, not the other way round.
    const running = await this.servers.manager
      .createQueryBuilder()
      .select('o.id', 'id')
      .from('operations', 'o')
      .where('o.server_id = :id AND o.status = :status', { id, status: 'running' })
      .getRawOne<{ id: string }>();
    if (running) {
      throw new ServerError(ServerErrorCode.OPERATION_IN_PROGRESS, `Server ${id} is running operation ${running.id}: cancel it or wait for its end`, {
        serverId: id,
        operationId: running.id,
      });
    }
    await this.servers.delete({ id });
    this.logger.log(`Server deleted: ${server.name} (${id})`);
    await this.changes.publish(id, { detach: true });
  }

  /**
   * The server's SSH coordinates with its secrets, read afresh (a reconnect or a pool view must see
   * the key file as it is now) and kept for exec. @throws ServerError SERVER_NOT_FOUND and as SshTargetFactory.build
   */
  async targetFor(id: string): Promise<SshTarget> {
    return this.targets.complete(await this.cache.refresh(id, () => this.prepareTarget(id)));
  }

  /** The target comes from the cache: no database read or decryption per command. @throws ServerError SERVER_NOT_FOUND, SSH_KEY_INVALID, CREDENTIALS_UNREADABLE; SshPoolError */
  async exec(id: string, dto: ExecCommandDto): Promise<ExecResult> {
    const target = await this.targets.complete(await this.cache.get(id, () => this.prepareTarget(id)));
    const result = await this.pool.exec(target, dto.command, { timeoutMs: dto.timeoutMs });
    this.logger.debug(`exec on ${id}: exit ${result.exitCode} in ${result.durationMs} ms`);
    return result;
  }

  private async prepareTarget(id: string): Promise<PreparedTarget> {
    return this.targets.prepare(await this.get(id));
  }

  private assignPlainFields(server: ServerEntity, dto: CreateServerDto | UpdateServerDto): void {
    for (const field of PLAIN_FIELDS) {
      if (dto[field] !== undefined) Object.assign(server, { [field]: dto[field] });
    }
    server.hostKeyFingerprint = normalizeFingerprint(server.hostKeyFingerprint) ?? null;
  }

  private async save(server: ServerEntity): Promise<ServerEntity> {
    try {
      return await this.servers.save(server);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ServerError(ServerErrorCode.NAME_TAKEN, `A server named "${server.name}" already exists`, { name: server.name });
      }
      throw error;
    }
  }
}
