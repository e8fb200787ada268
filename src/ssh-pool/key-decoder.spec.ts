import { ConfigService } from '@nestjs/config';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Default import: Node's ESM loader sees only some of ssh2's CommonJS exports by name (not `utils`).
import ssh2 from 'ssh2';
import { validateConfig } from '../config/configuration.js';
import { KeyDecoder } from './key-decoder.js';
import { inspectPrivateKey } from './private-key-format.js';

const dir = mkdtempSync(join(tmpdir(), 'key-decoder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keygen(name: string, type: string, passphrase = '', rounds = 4): { key: string; pub: string } {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-a', String(rounds), '-N', passphrase, '-C', name, '-f', path]);
  return { key: readFileSync(path, 'utf8'), pub: readFileSync(`${path}.pub`, 'utf8').split(' ')[1] };
}

const decoder = (maxRounds = 32) => new KeyDecoder(new ConfigService(validateConfig({ SSH_KEY_MAX_KDF_ROUNDS: String(maxRounds) })));

/** The decoded text must parse without a passphrase and be the same key pair. */
function expectSameKeyUnencrypted(decoded: string, publicKeyBase64: string): void {
  const parsed = ssh2.utils.parseKey(decoded);
  if (parsed instanceof Error) throw parsed;
  expect(parsed.isPrivateKey()).toBe(true);
  expect(parsed.getPublicSSH().toString('base64')).toBe(publicKeyBase64);
  expect(inspectPrivateKey(decoded)).toMatchObject({ encrypted: false });
}

describe('KeyDecoder', () => {
  it.each(['ed25519', 'rsa', 'ecdsa'])('turns a passphrase-protected %s key into one ssh2 reads without a KDF', async (type) => {
    const { key, pub } = keygen(`enc-${type}`, type, 'correct phrase');
    expect(inspectPrivateKey(key)).toEqual({ kind: 'openssh', encrypted: true, kdf: 'bcrypt', rounds: 4 });
    expectSameKeyUnencrypted(await decoder().decode(key, 'correct phrase'), pub);
  });

  it('passes an unencrypted key through unchanged', async () => {
    const { key, pub } = keygen('plain', 'ed25519');
    const decoded = await decoder().decode(Buffer.from(key));
    expect(decoded).toBe(key);
    expectSameKeyUnencrypted(decoded, pub);
  });

  it('names the problem of a key that cannot be used', async () => {
    const { key } = keygen('named', 'ed25519', 'right');
    const costly = keygen('costly', 'ed25519', 'right', 40).key;
    const d = decoder();
    await expect(d.decode(key, 'wrong')).rejects.toMatchObject({ code: 'SSH_KEY_INVALID', problem: 'passphrase-wrong' });
    await expect(d.decode(key)).rejects.toMatchObject({ code: 'SSH_KEY_INVALID', problem: 'passphrase-missing' });
    await expect(d.decode(costly, 'right')).rejects.toMatchObject({ code: 'SSH_KEY_INVALID', problem: 'too-costly', message: expect.stringContaining('40 bcrypt rounds') });
    await expect(d.decode('-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----')).rejects.toMatchObject({ problem: 'malformed' });
    await expect(d.decode('hello')).rejects.toMatchObject({ problem: 'not-a-key' });
    await expect(d.decode(readFileSync(join(dir, 'named.pub'), 'utf8'))).rejects.toMatchObject({ problem: 'public-key' });
    await expect(d.decode('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----')).rejects.toMatchObject({ problem: 'unsupported' });
    // The cap is configuration: the same key passes under a higher one.
    await expect(decoder(40).decode(costly, 'right')).resolves.toContain('OPENSSH PRIVATE KEY');
  });

  it('decodes a key and passphrase once, and remembers a failure too', async () => {
    const { key } = keygen('once', 'ed25519', 'p');
    const d = decoder();
    const first = d.decode(key, 'p');
    expect(d.decode(key, 'p')).toBe(first);
    expect(d.decode(key, 'other')).not.toBe(first);
    await first;
    const failed = d.decode(key, 'wrong');
    await expect(failed).rejects.toMatchObject({ problem: 'passphrase-wrong' });
    expect(d.decode(key, 'wrong')).toBe(failed);
  });
});
