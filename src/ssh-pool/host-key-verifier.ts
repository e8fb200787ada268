import { createHash } from 'node:crypto';
import type { SshConfig } from '../config/configuration.js';
import type { HostKeyStore } from './host-key-store.js';

export type HostKeyPolicy = SshConfig['hostKeyPolicy'];

/** What the verifier decided about the key a server presented during the handshake. */
export type HostKeyVerdict =
  | { accepted: true }
  | { accepted: false; reason: string; presented: string; expected?: string };

/** OpenSSH's `SHA256:…` fingerprint of a raw host key blob (as `ssh-keygen -lf` prints it). */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named at the start of an SSH wire-format key blob, e.g. `ssh-ed25519`. */
export function algorithmOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const length = keyBlob.readUInt32BE(0);
  return length > 0 && length <= 64 && keyBlob.length >= 4 + length
    ? keyBlob.subarray(4, 4 + length).toString('ascii')
    : 'unknown';
}

/**
 * Applies HOST_KEY_POLICY: a fingerprint pinned on the server wins (and, being an operator's word,
 * replaces what the store remembered); otherwise `accept-new` trusts on first use and refuses a
 * change, `strict` refuses everything unpinned, `off` accepts anything.
 */
export async function verifyHostKey(
  store: HostKeyStore,
  policy: HostKeyPolicy,
  target: { host: string; port: number; pinned?: string },
  keyBlob: Buffer,
  now: Date,
): Promise<HostKeyVerdict> {
  if (policy === 'off') return { accepted: true };
  const presented = fingerprintOf(keyBlob);
  const record = { host: target.host, port: target.port, algorithm: algorithmOf(keyBlob), fingerprint: presented };
  if (target.pinned) {
    if (target.pinned !== presented) {
      return { accepted: false, reason: 'does not match the pinned fingerprint', presented, expected: target.pinned };
    }
    const known = await store.find(target.host, target.port);
    if (policy === 'accept-new' && known?.fingerprint !== presented) {
      await store.save({ ...record, firstSeenAt: now });
    }
    return { accepted: true };
  }
  if (policy === 'strict') {
    return { accepted: false, reason: 'is not pinned and HOST_KEY_POLICY is strict', presented };
  }
  const known = await store.find(target.host, target.port);
  if (!known) {
    await store.save({ ...record, firstSeenAt: now });
    return { accepted: true };
  }
  return known.fingerprint === presented
    ? { accepted: true }
    : { accepted: false, reason: 'changed since it was first seen', presented, expected: known.fingerprint };
}
