import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** What ssh2's parseKey made of a key, in a form that crosses threads (its ParsedKey does not). */
export type WorkerOutcome =
  | { ok: true; type: string; comment: string; privatePem: string | null; publicSsh: Uint8Array }
  | { ok: false; error: string };

/**
 * Runs in the worker: ssh2's own parser, bcrypt-pbkdf included, so the event loop never runs the KDF.
 * Inline CommonJS (an eval worker) so that the same code runs from src under jest and from dist.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { utils } = require(workerData.ssh2);
let key = utils.parseKey(workerData.key, workerData.passphrase);
if (Array.isArray(key)) key = key[0];
if (key instanceof Error || !key) parentPort.postMessage({ ok: false, error: key ? key.message : 'no key' });
else parentPort.postMessage({ ok: true, type: key.type, comment: key.comment || '', privatePem: key.getPrivatePEM(), publicSsh: key.getPublicSSH() });
`;

const SSH2_ENTRY = createRequire(import.meta.url).resolve('ssh2');

/** One decode in a fresh worker thread; it exits when done, so a key's memory never outlives its decode. */
export function parseKeyInWorker(key: string, passphrase: string | undefined, timeoutMs: number): Promise<WorkerOutcome> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ssh2: SSH2_ENTRY, key, passphrase },
      resourceLimits: { maxOldGenerationSizeMb: 64 },
      stdout: true,
      stderr: true,
    });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`key decoding took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    worker.once('message', (outcome: WorkerOutcome) => {
      clearTimeout(timer);
      resolve(outcome);
      void worker.terminate();
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    worker.once('exit', () => {
      clearTimeout(timer);
      reject(new Error('key decoding worker exited without an answer'));
    });
  });
}
