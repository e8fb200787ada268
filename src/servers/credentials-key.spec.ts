import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCredentialsKey } from './credentials-key.js';

describe('loadCredentialsKey', () => {
  const scratch: string[] = [];
  const dataDir = () => {
    scratch.push(mkdtempSync(join(tmpdir(), 'cred-')));
    return join(scratch[scratch.length - 1], 'data');
  };
  afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('decodes CREDENTIALS_KEY and writes no file', async () => {
    const key = randomBytes(32);
    const dir = dataDir();
    await expect(loadCredentialsKey(key.toString('base64'), dir)).resolves.toEqual(key);
    expect(() => statSync(dir)).toThrow();
  });

  it('generates data/credentials.key once with mode 0600 and reads it back', async () => {
    const dir = dataDir();
    const first = await loadCredentialsKey(null, dir);
    const file = join(dir, 'credentials.key');
    expect(first).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64')).toEqual(first);
    await expect(loadCredentialsKey(null, dir)).resolves.toEqual(first);
  });

  it('refuses a key file of the wrong size, naming the file', async () => {
    const dir = dataDir();
    await loadCredentialsKey(null, dir);
    writeFileSync(join(dir, 'credentials.key'), randomBytes(16).toString('base64'));
    await expect(loadCredentialsKey(null, dir)).rejects.toThrow(/credentials\.key must hold base64 of 32 bytes/);
  });
});
