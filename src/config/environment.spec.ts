import { validateConfig } from './configuration.js';

describe('validateConfig', () => {
  it('applies the contract defaults to an empty environment', () => {
    expect(validateConfig({})).toMatchObject({
      http: { port: 3000, host: '0.0.0.0', internalTcpPort: 3001 },
      database: { url: 'sqlite:data/cs2-ssh-pool.sqlite' },
      security: { apiTokens: null, credentialsKey: null },
      pool: { enabled: true, idleTimeoutMs: 300_000, maxLifetimeMs: 3_600_000, cleanupIntervalMs: 60_000, maxConnectionsPerKey: 4 },
      ssh: { readyTimeoutMs: 15_000, execTimeoutMs: 30_000, keepaliveIntervalMs: 15_000, keepaliveCountMax: 3, hostKeyPolicy: 'accept-new' },
      status: { cacheMs: 2000, probeConcurrency: 8, probeTimeoutMs: 5000 },
    });
  });

  it('takes STATUS_CACHE_MS=0 (cache off) and refuses a probe concurrency of 0', () => {
    expect(validateConfig({ STATUS_CACHE_MS: '0', STATUS_PROBE_TIMEOUT_MS: '750' })).toMatchObject({ status: { cacheMs: 0, probeTimeoutMs: 750 } });
    expect(() => validateConfig({ STATUS_PROBE_CONCURRENCY: '0', STATUS_CACHE_MS: '-1' })).toThrow(/STATUS_CACHE_MS[\s\S]*STATUS_PROBE_CONCURRENCY/);
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
