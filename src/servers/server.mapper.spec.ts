import { ServerEntity } from './server.entity.js';
import { toExecResponse, toServerResponse } from './server.mapper.js';

function entity(overrides: Partial<ServerEntity> = {}): ServerEntity {
  return Object.assign(new ServerEntity(), {
    id: '6f1c2b9e-8d4a-4f3e-9b7c-2a1d0e5f6a7b',
    name: 'eu-1',
    host: '10.0.0.5',
    sshPort: 22,
    sshUser: 'cs2',
    authType: 'KEY_FILE',
    sshPasswordEnc: null,
    sshPrivateKeyEnc: 'v1:sealed-key',
    sshKeyPassphraseEnc: 'v1:sealed-phrase',
    sshKeyPath: null,
    hostKeyFingerprint: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
    gameDirectory: '/home/cs2/serverfiles',
    gamePort: 27015,
    description: null,
    controlScript: null,
    createdAt: new Date('2026-01-01T00:00:00.000Z'),
    updatedAt: new Date('2026-01-02T00:00:00.000Z'),
    ...overrides,
  });
}

describe('toServerResponse', () => {
  it('shows every non-secret field and only whether secrets are set', () => {
    expect(toServerResponse(entity(), null)).toEqual({
      id: '6f1c2b9e-8d4a-4f3e-9b7c-2a1d0e5f6a7b',
      name: 'eu-1',
      host: '10.0.0.5',
      sshPort: 22,
      sshUser: 'cs2',
      authType: 'KEY_FILE',
      sshKeyPath: null,
      hostKeyFingerprint: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
      pinnedHostKey: null,
      gameDirectory: '/home/cs2/serverfiles',
      gamePort: 27015,
      description: null,
      controlScript: '/home/cs2/cs2server',
      hasPassword: false,
      hasPrivateKey: true,
      hasKeyPassphrase: true,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-02T00:00:00.000Z',
    });
  });

  it('drops fields it does not know, such as plaintext that a bug attached to the entity', () => {
    const leaky = Object.assign(entity({ authType: 'PASSWORD', sshPasswordEnc: 'v1:x' }), { sshPassword: 'hunter2', password: 'hunter2' });
    const text = JSON.stringify(toServerResponse(leaky, null));
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('v1:');
    expect(toServerResponse(leaky, null)).toMatchObject({ hasPassword: true, hasPrivateKey: true });
  });

  it('shows the pinned host key: algorithm, fingerprint and when it was pinned', () => {
    const pinned = { algorithm: 'ssh-ed25519', fingerprint: 'SHA256:abc', firstSeenAt: new Date('2026-01-03T00:00:00.000Z'), host: 'x', port: 22 };
    expect(toServerResponse(entity(), pinned).pinnedHostKey).toEqual({ algorithm: 'ssh-ed25519', fingerprint: 'SHA256:abc', pinnedAt: '2026-01-03T00:00:00.000Z' });
  });

  it('shows the control script set, or LinuxGSM’s default for the SSH user', () => {
    expect(toServerResponse(entity({ controlScript: '/srv/eu-1/cs2server' }), null).controlScript).toBe('/srv/eu-1/cs2server');
    expect(toServerResponse(entity({ sshUser: 'steam' }), null).controlScript).toBe('/home/steam/cs2server');
  });
});

describe('toExecResponse', () => {
  it('keeps exactly the contract fields', () => {
    const result = { exitCode: 0, signal: null, stdout: 'a', stderr: '', durationMs: 5, truncated: false };
    expect(toExecResponse({ ...result, extra: 'x' } as typeof result)).toEqual(result);
  });
});
