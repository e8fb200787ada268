import { Injectable } from '@nestjs/common';

/** Injection token for the store that remembers host keys seen under `HOST_KEY_POLICY=accept-new`. */
export const HOST_KEY_STORE = Symbol('HOST_KEY_STORE');

export interface StoredHostKey {
  host: string;
  port: number;
  algorithm: string;
  /** OpenSSH form: `SHA256:` + unpadded base64 of the SHA-256 of the key blob. */
  fingerprint: string;
  firstSeenAt: Date;
}

export interface HostKeyStore {
  find(host: string, port: number): Promise<StoredHostKey | null>;
  /** Insert or replace the key remembered for host:port. */
  save(key: StoredHostKey): Promise<void>;
}

/** Process-local store: the default until a persistent one is provided to `SshPoolModule.forRoot`. */
@Injectable()
export class InMemoryHostKeyStore implements HostKeyStore {
  private readonly keys = new Map<string, StoredHostKey>();

  async find(host: string, port: number): Promise<StoredHostKey | null> {
    return this.keys.get(`${host}:${port}`) ?? null;
  }

  async save(key: StoredHostKey): Promise<void> {
    this.keys.set(`${key.host}:${key.port}`, { ...key });
  }
}
