// The local SSH test user prepared by scripts/test.sh: $CS2_TEST_DIR/user.json plus key files.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestUser {
  username: string;
  password: string;
  privateKey: string;
  publicKey: string;
  encryptedPrivateKey: string;
  encryptedKeyPassphrase: string;
}

export interface UserFile {
  username: string;
  password: string;
  privateKeyPath: string;
  publicKeyPath: string;
  encryptedKeyPath: string;
  encryptedKeyPassphrase: string;
}

export function runDir(): string {
  const dir = process.env.CS2_TEST_DIR;
  if (!dir || !existsSync(join(dir, 'user.json'))) {
    throw new Error(
      `SSH test environment missing (${dir ? `${dir}/user.json not found` : 'CS2_TEST_DIR unset'}): ` +
        'run the tests through `npm test` (scripts/test.sh prepares the test user, keys and database)',
    );
  }
  return dir;
}

export function readUserFile(): UserFile {
  return JSON.parse(readFileSync(join(runDir(), 'user.json'), 'utf8')) as UserFile;
}

export function loadTestUser(): TestUser {
  const u = readUserFile();
  return {
    username: u.username,
    password: u.password,
    privateKey: readFileSync(u.privateKeyPath, 'utf8'),
    publicKey: readFileSync(u.publicKeyPath, 'utf8').trim(),
    encryptedPrivateKey: readFileSync(u.encryptedKeyPath, 'utf8'),
    encryptedKeyPassphrase: u.encryptedKeyPassphrase,
  };
}
