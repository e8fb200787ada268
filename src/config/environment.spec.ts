import { validateConfig } from './configuration.js';

describe('validateConfig', () => {
  it('applies the contract defaults to an empty environment', () => {
    expect(validateConfig({})).toMatchObject({
      http: { port: 3000, host: '0.0.0.0', internalTcpPort: 3001, healthPort: 0 },
      edge: { httpMaxConnections: 512, tcpMaxConnections: 256, idleTimeoutMs: 10_000, maxInFlight: 8 },
      database: { url: 'sqlite:data/cs2-ssh-pool.sqlite' },
      security: { apiTokens: null, credentialsKey: null },
      pool: { enabled: true, idleTimeoutMs: 300_000, maxLifetimeMs: 3_600_000, cleanupIntervalMs: 60_000, maxConnectionsPerKey: 4 },
      ssh: { readyTimeoutMs: 15_000, execTimeoutMs: 30_000, keepaliveIntervalMs: 15_000, keepaliveCountMax: 3, hostKeyPolicy: 'accept-new' },
      status: { cacheMs: 2000, probeConcurrency: 8, probeTimeoutMs: 5000 },
      servers: { targetCacheTtlMs: 10_000 },
    });
  });

  it('takes the edge limits and refuses a cap of 0, an idle timeout under 100 ms or no request in flight', () => {
    expect(validateConfig({ HEALTH_PORT: '3002', HTTP_MAX_CONNECTIONS: '64', CONNECTION_IDLE_TIMEOUT_MS: '500', CONNECTION_MAX_IN_FLIGHT: '1' })).toMatchObject({
      http: { healthPort: 3002 },
      edge: { httpMaxConnections: 64, idleTimeoutMs: 500, maxInFlight: 1 },
    });
    expect(() => validateConfig({ INTERNAL_TCP_MAX_CONNECTIONS: '0', CONNECTION_IDLE_TIMEOUT_MS: '99', CONNECTION_MAX_IN_FLIGHT: '0' })).toThrow(
      /INTERNAL_TCP_MAX_CONNECTIONS[\s\S]*CONNECTION_IDLE_TIMEOUT_MS[\s\S]*CONNECTION_MAX_IN_FLIGHT/,
    );
  });

  it('takes SERVER_CACHE_TTL_MS=0 (no target cache) and refuses a negative or hour-long one', () => {
    expect(validateConfig({ SERVER_CACHE_TTL_MS: '0' })).toMatchObject({ servers: { targetCacheTtlMs: 0 } });
    expect(() => validateConfig({ SERVER_CACHE_TTL_MS: '-1' })).toThrow(/SERVER_CACHE_TTL_MS/);
    expect(() => validateConfig({ SERVER_CACHE_TTL_MS: '3600001' })).toThrow(/SERVER_CACHE_TTL_MS/);
  });

  it('keeps idempotency keys a day by default, takes IDEMPOTENCY_TTL_S and refuses 0 or a non-number', () => {
    expect(validateConfig({}).idempotency).toEqual({ ttlMs: 86_400_000, leaseMs: 15_000, cleanupIntervalMs: 60_000, maxAnswerBytes: 12 * 1024 * 1024 + 64 * 1024 });
    expect(validateConfig({ IDEMPOTENCY_TTL_S: '60' }).idempotency.ttlMs).toBe(60_000);
    expect(() => validateConfig({ IDEMPOTENCY_TTL_S: '0' })).toThrow(/IDEMPOTENCY_TTL_S/);
    expect(() => validateConfig({ IDEMPOTENCY_TTL_S: 'day' })).toThrow(/IDEMPOTENCY_TTL_S/);
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

  it('keeps spare channels on by default; SSH_SPARE_CHANNELS takes true/false only', () => {
    expect(validateConfig({}).pool.spareChannels).toBe(true);
    expect(validateConfig({ SSH_SPARE_CHANNELS: 'false' }).pool.spareChannels).toBe(false);
    expect(() => validateConfig({ SSH_SPARE_CHANNELS: 'off' })).toThrow(/SSH_SPARE_CHANNELS/);
  });

  it('defaults the key directory under DATA_DIR, the KDF cap, and a deny list of link-local only', () => {
    const { ssh } = validateConfig({ DATA_DIR: '/var/lib/cs2' });
    expect({ keyDir: ssh.keyDir, maxKdfRounds: ssh.maxKdfRounds, targets: ssh.targets }).toEqual({
      keyDir: '/var/lib/cs2/keys',
      maxKdfRounds: 100,
      targets: { allow: null, deny: [{ address: '169.254.0.0', prefix: 16, family: 'ipv4' }] },
    });
    expect(validateConfig({ SSH_KEY_DIR: '/etc/cs2/keys', SSH_TARGET_ALLOW: '10.0.0.0/8,2001:db8::1' }).ssh).toMatchObject({
      keyDir: '/etc/cs2/keys',
      targets: { allow: [{ address: '10.0.0.0', prefix: 8, family: 'ipv4' }, { address: '2001:db8::1', prefix: 128, family: 'ipv6' }] },
    });
  });

  it('names every bad variable in one message', () => {
    const bad = () => validateConfig({ PORT: 'eighty', SSH_POOL_ENABLED: 'yes', HOST_KEY_POLICY: 'trust-me', POOL_MAX_CHANNELS_PER_CONNECTION: '11' });
    expect(bad).toThrow(/PORT[\s\S]*SSH_POOL_ENABLED[\s\S]*POOL_MAX_CHANNELS_PER_CONNECTION[\s\S]*HOST_KEY_POLICY/);
  });
});
