import { randomBytes } from 'node:crypto';
import { CredentialsCipher } from './credentials-cipher.js';
import { ServerErrorCode } from './servers.errors.js';

describe('CredentialsCipher', () => {
  const key = randomBytes(32);
  const cipher = new CredentialsCipher(key);
  const context = 'servers/1/sshPassword';

  it('round-trips text, including non-ASCII and empty strings', () => {
    for (const secret of ['hunter2', 'pässwörd ✓ 🔑', '', 'x'.repeat(20_000)]) {
      expect(cipher.decrypt(cipher.encrypt(secret, context), context)).toBe(secret);
    }
  });

  it('seals the same secret differently each time and never shows it', () => {
    const a = cipher.encrypt('hunter2-hunter2', context);
    const b = cipher.encrypt('hunter2-hunter2', context);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1:[A-Za-z0-9_-]+$/);
    expect(a).not.toContain('hunter2');
    expect(Buffer.from(a.slice(3), 'base64url').includes(Buffer.from('hunter2'))).toBe(false);
  });

  it('refuses a tampered ciphertext, another context, another key and garbage with CREDENTIALS_UNREADABLE', () => {
    const sealed = cipher.encrypt('hunter2', context);
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[raw.length - 1] ^= 1;
    const tampered = `v1:${raw.toString('base64url')}`;
    const attempts = [
      () => cipher.decrypt(tampered, context),
      () => cipher.decrypt(sealed, 'servers/2/sshPassword'),
      () => new CredentialsCipher(randomBytes(32)).decrypt(sealed, context),
      () => cipher.decrypt('v2:abc', context),
      () => cipher.decrypt('hunter2', context),
      () => cipher.decrypt('v1:', context),
    ];
    for (const attempt of attempts) {
      expect(attempt).toThrow(expect.objectContaining({ code: ServerErrorCode.CREDENTIALS_UNREADABLE }));
    }
  });

  it('needs a 32-byte key', () => {
    expect(() => new CredentialsCipher(randomBytes(16))).toThrow('32-byte key');
  });
});
