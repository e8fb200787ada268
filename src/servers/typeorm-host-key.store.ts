import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { HostKeyStore, StoredHostKey } from '../ssh-pool/host-key-store.js';
import { HostKeyEntity } from './host-key.entity.js';

/** The pool's HostKeyStore on the `host_keys` table, so accepted keys survive restarts and are shared by replicas. */
@Injectable()
export class TypeOrmHostKeyStore implements HostKeyStore {
  constructor(@InjectRepository(HostKeyEntity) private readonly keys: Repository<HostKeyEntity>) {}

  async find(host: string, port: number): Promise<StoredHostKey | null> {
    const key = await this.keys.findOneBy({ host, port });
    return key && { host: key.host, port: key.port, algorithm: key.algorithm, fingerprint: key.fingerprint, firstSeenAt: key.firstSeenAt };
  }

  async save(key: StoredHostKey): Promise<void> {
    const { host, port, algorithm, fingerprint, firstSeenAt } = key;
    await this.keys.upsert({ host, port, algorithm, fingerprint, firstSeenAt }, ['host', 'port']);
  }
}
