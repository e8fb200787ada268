import { InMemoryHostKeyStore } from './host-key-store.js';
import { algorithmOf, fingerprintOf, verifyHostKey } from './host-key-verifier.js';

/** An SSH wire-format key blob: string "ssh-ed25519", then string <bytes>. */
function blob(seed: string): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const body = Buffer.from(seed.padEnd(32, '.'));
  const len = (b: Buffer) => Buffer.from([0, 0, 0, b.length]);
  return Buffer.concat([len(type), type, len(body), body]);
}

describe('verifyHostKey', () => {
  const host = { host: '127.0.0.2', port: 2222 };
  const now = new Date('2026-01-01T00:00:00Z');
  let store: InMemoryHostKeyStore;

  beforeEach(() => {
    store = new InMemoryHostKeyStore();
  });

  it('fingerprints like ssh-keygen and reads the algorithm name', () => {
    expect(fingerprintOf(blob('a'))).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(algorithmOf(blob('a'))).toBe('ssh-ed25519');
    expect(algorithmOf(Buffer.from([1]))).toBe('unknown');
  });

  it('accept-new trusts the first key, stores it, and refuses a changed one', async () => {
    await expect(verifyHostKey(store, 'accept-new', host, blob('a'), now)).resolves.toEqual({ accepted: true });
    await expect(store.find(host.host, host.port)).resolves.toEqual({
      ...host,
      algorithm: 'ssh-ed25519',
      fingerprint: fingerprintOf(blob('a')),
      firstSeenAt: now,
    });
    await expect(verifyHostKey(store, 'accept-new', host, blob('a'), now)).resolves.toEqual({ accepted: true });
    await expect(verifyHostKey(store, 'accept-new', host, blob('b'), now)).resolves.toEqual({
      accepted: false,
      reason: 'changed since it was first seen',
      presented: fingerprintOf(blob('b')),
      expected: fingerprintOf(blob('a')),
    });
  });

  it('a matching pin wins over the stored key and replaces it; a wrong pin is refused', async () => {
    await verifyHostKey(store, 'accept-new', host, blob('a'), now);
    const pinned = { ...host, pinned: fingerprintOf(blob('b')) };
    await expect(verifyHostKey(store, 'accept-new', pinned, blob('b'), now)).resolves.toEqual({ accepted: true });
    await expect(verifyHostKey(store, 'accept-new', host, blob('b'), now)).resolves.toEqual({ accepted: true });
    await expect(verifyHostKey(store, 'accept-new', pinned, blob('c'), now)).resolves.toMatchObject({ accepted: false });
  });

  it('strict refuses unpinned hosts; off accepts anything', async () => {
    await expect(verifyHostKey(store, 'strict', host, blob('a'), now)).resolves.toMatchObject({ accepted: false });
    await expect(verifyHostKey(store, 'strict', { ...host, pinned: fingerprintOf(blob('a')) }, blob('a'), now)).resolves.toEqual({ accepted: true });
    await expect(verifyHostKey(store, 'off', host, blob('z'), now)).resolves.toEqual({ accepted: true });
    await expect(store.find(host.host, host.port)).resolves.toBeNull();
  });
});
