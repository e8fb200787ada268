import { ConfigService } from '@nestjs/config';
import type { Logger } from '@nestjs/common';
import { isIP } from 'node:net';
import { FakeConnector } from '../../test/fakes/fake-connector.js';
import { validateConfig } from '../config/configuration.js';
import { ConnectBackoff } from './connect-backoff.js';
import { ConnectionKey, SecretHasher } from './connection-key.js';
import { InMemoryHostKeyStore } from './host-key-store.js';
import { KeyDecoder } from './key-decoder.js';
import { PoolCounters } from './pool-counters.js';
import { PoolDialer } from './pool-dialer.js';
import type { ConnectParams, SshConnector } from './ssh-connector.js';
import type { SshTarget } from './ssh-pool.types.js';
import { TargetPolicy } from './target-policy.js';

const policy = (env: Record<string, string>, lookup: (host: string) => Promise<string[]> = async () => []) =>
  new TargetPolicy(validateConfig(env).ssh.targets, lookup);

describe('TargetPolicy', () => {
  it('denies link-local by default and allows the rest, IPv4-mapped IPv6 included', () => {
    const p = policy({});
    expect(['169.254.169.254', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe'].map((a) => p.permits(a))).toEqual([false, false, false]);
    expect(['10.0.0.5', '127.0.0.1', '2001:db8::1', '8.8.8.8'].map((a) => p.permits(a))).toEqual([true, true, true, true]);
    expect(p.refusesLiteral('169.254.1.1')).toBe(true);
    expect(p.refusesLiteral('metadata.internal')).toBe(false); // names are checked after DNS, at connect
  });

  it('lets deny win over allow, and `none` empty the deny list', () => {
    const p = policy({ SSH_TARGET_ALLOW: '10.0.0.0/8, fd00::/8', SSH_TARGET_DENY: '10.9.0.0/16' });
    expect(['10.1.2.3', '10.9.1.1', '192.168.1.1', 'fd00::5', '2001:db8::1'].map((a) => p.permits(a))).toEqual([true, false, false, true, false]);
    expect(policy({ SSH_TARGET_DENY: 'none' }).permits('169.254.169.254')).toBe(true);
  });

  it('never permits an unspecified ("this host") address, whatever the lists say', () => {
    const p = policy({ SSH_TARGET_ALLOW: '0.0.0.0/0, ::/0', SSH_TARGET_DENY: 'none' });
    const unspecified = ['0.0.0.0', '0.255.1.2', '::', '::0', '::ffff:0.0.0.0', '::ffff:0:0', '::ffff:0.1.2.3'];
    expect(unspecified.map((a) => p.permits(a))).toEqual(unspecified.map(() => false));
    expect(['0x0', '0', '0.0', '00.0.0.0', '0x00000000'].map((h) => p.refusesLiteral(h))).toEqual([true, true, true, true, true]);
    expect(['10.0.0.5', '::2', 'example.com', '0x0.example'].map((a) => (isIP(a) ? p.permits(a) : !p.refusesLiteral(a)))).toEqual([true, true, true, true]);
  });

  it('treats ::1 as part of a loopback deny, and inet_aton spellings as the address they spell', () => {
    const p = policy({ SSH_TARGET_DENY: '127.0.0.0/8' });
    expect(['::1', '0:0::1', '::ffff:127.0.0.1', '::ffff:7f00:2', '127.1.2.3'].map((a) => p.permits(a))).toEqual([false, false, false, false, false]);
    expect(['0x7f.1', '2130706433', '0177.0.0.1', '127.1'].map((h) => p.refusesLiteral(h))).toEqual([true, true, true, true]);
    expect(['::2', '128.0.0.1'].map((a) => p.permits(a))).toEqual([true, true]);
    expect(policy({ SSH_TARGET_ALLOW: '127.0.0.1/32' }).permits('::1')).toBe(true);
    expect(policy({ SSH_TARGET_ALLOW: '10.0.0.0/8' }).permits('::1')).toBe(false);
  });

  it('refuses at connect a name that resolves only to this host', async () => {
    const p = policy({ SSH_TARGET_DENY: '127.0.0.0/8' }, async (host) => (host === 'zero' ? ['0.0.0.0', '::'] : ['::1']));
    await expect(p.resolve('zero', 'zero:22')).rejects.toMatchObject({ code: 'SSH_TARGET_FORBIDDEN' });
    await expect(p.resolve('localhost6', 'localhost6:22')).rejects.toMatchObject({ code: 'SSH_TARGET_FORBIDDEN' });
  });

  it('refuses invalid lists at start, naming the variable', () => {
    expect(() => validateConfig({ SSH_TARGET_ALLOW: '10.0.0.0/33', SSH_TARGET_DENY: 'metadata' })).toThrow(/SSH_TARGET_ALLOW[\s\S]*SSH_TARGET_DENY/);
  });

  it('resolves to the first permitted address and refuses a name with none', async () => {
    const p = policy({}, async (host) => (host === 'mixed' ? ['169.254.169.254', '10.1.2.3'] : ['169.254.169.254']));
    await expect(p.resolve('mixed', 'mixed:22')).resolves.toBe('10.1.2.3');
    await expect(p.resolve('metadata', 'metadata:22')).rejects.toMatchObject({ code: 'SSH_TARGET_FORBIDDEN' });
    await expect(policy({}, async () => Promise.reject(new Error('ENOTFOUND'))).resolve('nowhere', 'nowhere:22')).rejects.toMatchObject({ code: 'SSH_UNREACHABLE' });
  });
});

const quiet = { log: () => undefined, warn: () => undefined } as unknown as Logger;

describe('PoolDialer with a target policy', () => {
  const target: SshTarget = { host: 'game.example', port: 22, username: 'cs2', auth: { type: 'PASSWORD', password: 'pw' } };

  it('connects to the address it checked, checks again at every connect, and never backs off a forbidden host', async () => {
    let answer = ['10.1.2.3'];
    const connector = new FakeConnector();
    const seen: ConnectParams[] = [];
    const connect = connector.connect.bind(connector);
    connector.connect = (params) => (seen.push(params), connect(params));
    const config = validateConfig({});
    const backoff = new ConnectBackoff();
    const dialer = new PoolDialer(
      { connector: connector as unknown as SshConnector, hostKeys: new InMemoryHostKeyStore(), keys: new KeyDecoder(new ConfigService(config)), targets: policy({}, async () => answer) },
      { ...config.ssh, hostKeyPolicy: 'off' },
      backoff,
      new PoolCounters(),
      quiet,
    );
    const key = ConnectionKey.of(target, new SecretHasher());
    (await dialer.dial(target, key)).close();
    expect(seen.map((p) => ({ host: p.host, address: p.address }))).toEqual([{ host: 'game.example', address: '10.1.2.3' }]);

    answer = ['169.254.169.254']; // DNS now points at the metadata service
    for (let i = 0; i < 3; i++) await expect(dialer.dial(target, key)).rejects.toMatchObject({ code: 'SSH_TARGET_FORBIDDEN' });
    expect(seen).toHaveLength(1);
    expect(backoff.isHostDown(key.hostId, Date.now())).toBe(false);
    expect(() => backoff.admit(key, Date.now())).not.toThrow();
  });
});
