import { randomBytes } from 'node:crypto';

/** What a private key's text says about itself before any (costly) decryption. */
export type KeyInspection =
  | { kind: 'openssh'; encrypted: boolean; kdf: string; rounds: number | null }
  | { kind: 'pem'; encrypted: boolean }
  | { kind: 'ppk'; encrypted: boolean }
  | { kind: 'pkcs8' }
  | { kind: 'public' }
  | { kind: 'malformed' }
  | { kind: 'unknown' };

const OPENSSH = /^-----BEGIN OPENSSH PRIVATE KEY-----\r?\n([\s\S]+?)\r?\n-----END OPENSSH PRIVATE KEY-----$/;
const MAGIC = 'openssh-key-v1\0';

/** Reads an SSH `string` (uint32 length + bytes) at `at`; null when it runs past the end. */
function readString(data: Buffer, at: number): { value: Buffer; next: number } | null {
  if (at + 4 > data.length) return null;
  const end = at + 4 + data.readUInt32BE(at);
  return end > data.length ? null : { value: data.subarray(at + 4, end), next: end };
}

/** openssh-key-v1 header: cipher, kdfname, kdfoptions (bcrypt: string salt, uint32 rounds). */
function inspectOpenSsh(body: string): KeyInspection {
  const data = Buffer.from(body, 'base64');
  if (data.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) return { kind: 'malformed' };
  const cipher = readString(data, MAGIC.length);
  const kdf = cipher && readString(data, cipher.next);
  const options = kdf && readString(data, kdf.next);
  if (!options) return { kind: 'malformed' };
  const kdfName = kdf.value.toString('latin1');
  const encrypted = cipher.value.toString('latin1') !== 'none';
  if (kdfName !== 'bcrypt') return { kind: 'openssh', encrypted, kdf: kdfName, rounds: null };
  const salt = readString(options.value, 0);
  if (!salt || salt.next + 4 > options.value.length) return { kind: 'malformed' };
  return { kind: 'openssh', encrypted, kdf: kdfName, rounds: options.value.readUInt32BE(salt.next) };
}

export function inspectPrivateKey(text: string): KeyInspection {
  const key = text.trim();
  const openssh = OPENSSH.exec(key);
  if (openssh) return inspectOpenSsh(openssh[1]);
  if (/^-----BEGIN (RSA|DSA|EC) PRIVATE KEY-----/.test(key)) return { kind: 'pem', encrypted: /^Proc-Type:\s*4,ENCRYPTED/m.test(key) };
  if (/^PuTTY-User-Key-File-\d+:/.test(key)) return { kind: 'ppk', encrypted: !/^Encryption: none\r?$/m.test(key) };
  if (/^-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(key)) return { kind: 'pkcs8' };
  if (/^-----BEGIN [A-Z0-9 ]*PUBLIC KEY-----/.test(key) || /^(ssh|ecdsa-sha2)-[a-z0-9-]+ AAAA/.test(key)) return { kind: 'public' };
  return { kind: 'unknown' };
}

const sshString = (value: Buffer | string): Buffer => {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
};

/**
 * An unencrypted openssh-key-v1 file for an ed25519 key: the one form of a decrypted ed25519 key that
 * ssh2 parses again cheaply (its own export is PKCS#8, which its parser does not read).
 */
export function opensshEd25519(seed: Buffer, publicKey: Buffer, comment: string): string {
  const type = 'ssh-ed25519';
  const check = randomBytes(4);
  const unpadded = Buffer.concat([check, check, sshString(type), sshString(publicKey), sshString(Buffer.concat([seed, publicKey])), sshString(comment)]);
  const padding = Buffer.from(Array.from({ length: (8 - (unpadded.length % 8)) % 8 }, (_, i) => i + 1));
  const count = Buffer.alloc(4);
  count.writeUInt32BE(1);
  const file = Buffer.concat([
    Buffer.from(MAGIC, 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    count,
    sshString(Buffer.concat([sshString(type), sshString(publicKey)])),
    sshString(Buffer.concat([unpadded, padding])),
  ]);
  const lines = file.toString('base64').match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}
