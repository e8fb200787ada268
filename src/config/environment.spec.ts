import { validateConfig } from './configuration.js';

describe('validateConfig', () => {
  it('applies the contract defaults to an empty environment', () => {
    expect(validateConfig({})).toMatchObject({
      http: { port: 3000, host: '0.0.0.0', internalTcpPort: 3001 },
      database: { url: 'sqlite:data/cs2-ssh-pool.sqlite' },
      security: { apiTokens: null, credentialsKey: null },
      pool: { enabled: true, idleTimeoutMs: 300_000, maxLifetimeMs: 3_600_000, cleanupIntervalMs: 60_000, maxConnectionsPerKey: 4 },
      ssh: { readyTimeoutMs: 15_000, execTimeoutMs: 30_000, keepaliveIntervalMs: 15_000, keepaliveCountMax: 3, hostKeyPolicy: 'accept-new' },
    });
  });

  it('parses typed values', () => {
    expect(validateConfig({ SSH_POOL_ENABLED: 'false', POOL_IDLE_TIMEOUT_S: '5', API_TOKENS: 'a, b,,' })).toMatchObject({
      pool: { enabled: false, idleTimeoutMs: 5000 },
      security: { apiTokens: ['a', 'b'] },
    });
  });

  it('names every bad variable in one message', () => {
    const bad = () => validateConfig({ PORT: 'eighty', SSH_POOL_ENABLED: 'yes', HOST_KEY_POLICY: 'trust-me', POOL_MAX_CHANNELS_PER_CONNECTION: '11' });
    expect(bad).toThrow(/PORT[\s\S]*SSH_POOL_ENABLED[\s\S]*POOL_MAX_CHANNELS_PER_CONNECTION[\s\S]*HOST_KEY_POLICY/);
  });
});
