import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { HostKeyEntity } from './host-key.entity.js';
import type { ServerEntity } from './server.entity.js';
import { type ServerResponseDto, toServerResponse } from './server.mapper.js';

/** The pool remembers keys by host:port with the host in lower case (ConnectionKey.of). */
const hostIdOf = (host: string, port: number) => `${host.toLowerCase()}:${port}`;

/**
 * Server responses with the host key the pool pinned for the server's host:port (shared by every
 * server on it), so that an operator can check the pin against `ssh-keygen -lf` on the host.
 */
@Injectable()
export class ServerResponses {
  constructor(@InjectRepository(HostKeyEntity) private readonly hostKeys: Repository<HostKeyEntity>) {}

  async one(server: ServerEntity): Promise<ServerResponseDto> {
    const pinned = await this.hostKeys.findOneBy({ host: server.host.toLowerCase(), port: server.sshPort });
    return toServerResponse(server, pinned);
  }

  /** One read of the pinned keys for the whole list (a table of one row per host). */
  async many(servers: ServerEntity[]): Promise<ServerResponseDto[]> {
    if (servers.length === 0) return [];
    const pinned = new Map((await this.hostKeys.find()).map((key) => [hostIdOf(key.host, key.port), key]));
    return servers.map((server) => toServerResponse(server, pinned.get(hostIdOf(server.host, server.sshPort)) ?? null));
  }
}
