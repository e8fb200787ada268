// Proves the real-OpenSSH harness itself, using the system `ssh` client and ssh2.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import { loadTestUser, startSshd, sshdAvailable, type SshdHost } from './sshd.js';
import { readUserFile, runDir } from './test-user.js';

const run = promisify(execFile);
const describeSshd = sshdAvailable() ? describe : describe.skip;

function sshArgs(host: SshdHost, extra: string[] = []): string[] {
  const user = readUserFile();
  return [
    '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'LogLevel=ERROR',
    '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-i', user.privateKeyPath, '-p', String(host.port), ...extra, `${user.username}@${host.host}`,
  ];
}

const ssh = (host: SshdHost, command: string, extra: string[] = []) =>
  run('ssh', [...sshArgs(host, extra), command], { timeout: 10_000 });

const masters: ChildProcess[] = [];

/** An `ssh -M` control master keeping one authenticated connection open. */
async function controlMaster(host: SshdHost): Promise<{ socket: string; proc: ChildProcess }> {
  const socket = join(mkdtempSync(join(runDir(), 'cm-')), 'ctl');
  const proc = spawn('ssh', [...sshArgs(host, ['-M', '-S', socket, '-N'])], { stdio: 'ignore' });
  masters.push(proc);
  await host.waitFor(() => existsSync(socket) && host.openConnections() === 1);
  return { socket, proc };
}

/** ESTABLISHED TCP sockets whose local port is `port` (server side), from /proc/net/tcp. */
function establishedServerSockets(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length > 3 && f[1].endsWith(`:${hexPort}`) && f[3] === '01').length;
}

/** The host key fingerprint as OpenSSH tools see it from the outside (ssh-keyscan | ssh-keygen -lf -). */
async function keyscanFingerprint(host: SshdHost): Promise<string> {
  const { stdout: keys } = await run('ssh-keyscan', ['-t', 'ed25519', '-p', String(host.port), host.host]);
  return execFileSync('ssh-keygen', ['-lf', '-'], { input: keys }).toString().split(' ')[1];
}

function ssh2Exec(host: SshdHost, auth: Partial<ssh2.ConnectConfig>): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', reject);
    client.on('ready', () =>
      client.exec('whoami', (err, stream) => {
        if (err) return reject(err);
        let out = '';
        stream.on('data', (d: Buffer) => (out += d.toString()));
        stream.on('close', () => {
          client.end();
          resolve(out.trim());
        });
      }),
    );
    client.connect({ host: host.host, port: host.port, username: loadTestUser().username, ...auth });
  });
}

describeSshd('sshd test harness', () => {
  let a: SshdHost;
  let b: SshdHost;

  beforeEach(async () => {
    [a, b] = await Promise.all([startSshd({ address: '127.0.0.2' }), startSshd({ address: '127.0.0.3', maxSessions: 3 })]);
  });
  afterEach(async () => {
    masters.splice(0).forEach((m) => m.kill('SIGKILL'));
    await Promise.all([a.stop(), b.stop()]);
  });

  it('counts logins, sessions and disconnects per host', async () => {
    expect([a.host, b.host, b.maxSessions]).toEqual(['127.0.0.2', '127.0.0.3', 3]);
    await ssh(a, 'true');
    await ssh(a, 'true');
    await ssh(b, 'true');
    await a.waitFor(() => a.disconnects() === 2);
    await b.waitFor(() => b.disconnects() === 1);
    expect([a.acceptedAuths(), a.sessionsStarted(), a.failedAuths()]).toEqual([2, 2, 0]);
    expect([b.acceptedAuths(), b.sessionsStarted(), b.failedAuths()]).toEqual([1, 1, 0]);
    await a.waitFor(() => a.openConnections() === 0 && b.openConnections() === 0);
  });

  it('freeze keeps TCP open but stops answering; thaw resumes', async () => {
    const master = await controlMaster(a);
    await ssh(a, 'true', ['-S', master.socket]);
    a.freeze();
    const hung = run('ssh', [...sshArgs(a, ['-S', master.socket]), 'echo late'], { timeout: 1000 });
    await expect(hung).rejects.toMatchObject({ killed: true });
    expect(establishedServerSockets(a.port)).toBe(1);
    expect(a.openConnections()).toBe(1);
    expect(b.openConnections()).toBe(0);
    await expect(ssh(a, 'echo fresh')).resolves.toMatchObject({ stdout: 'fresh\n' }); // listener not frozen
    a.thaw();
    await expect(ssh(a, 'echo thawed', ['-S', master.socket])).resolves.toMatchObject({ stdout: 'thawed\n' });
    a.killConnections();
  });

  it('killConnections ends live connections; new ones still work', async () => {
    const master = await controlMaster(a);
    const exited = new Promise<void>((resolve) => master.proc.once('exit', () => resolve()));
    a.killConnections();
    await exited;
    await a.waitFor(() => a.openConnections() === 0);
    await expect(ssh(a, 'echo again')).resolves.toMatchObject({ stdout: 'again\n' });
  });

  it('rotateHostKey changes the fingerprint on the same port and keeps old connections', async () => {
    const before = a.hostKeyFingerprint();
    expect(before).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(await keyscanFingerprint(a)).toBe(before);
    const port = a.port;
    const master = await controlMaster(a);
    await a.rotateHostKey();
    expect(a.port).toBe(port);
    expect(a.hostKeyFingerprint()).not.toBe(before);
    expect(await keyscanFingerprint(a)).toBe(a.hostKeyFingerprint());
    // The connection made before the rotation survives; the keyscan's own sshd child may still be exiting.
    await a.waitFor(() => a.openConnections() === 1);
    await expect(ssh(a, 'echo old', ['-S', master.socket])).resolves.toMatchObject({ stdout: 'old\n' });
    a.killConnections();
    await a.waitFor(() => a.openConnections() === 0);
  });

  it('accepts the password and the passphrase-protected key (ssh2) and counts failures', async () => {
    const user = loadTestUser();
    await expect(ssh2Exec(b, { password: user.password })).resolves.toBe(user.username);
    await expect(ssh2Exec(b, { password: 'wrong' })).rejects.toThrow(/authentication methods failed/);
    await expect(
      ssh2Exec(b, { privateKey: user.encryptedPrivateKey, passphrase: user.encryptedKeyPassphrase }),
    ).resolves.toBe(user.username);
    await b.waitFor(() => b.disconnects() === 3);
    expect([b.acceptedAuths(), b.failedAuths(), b.sessionsStarted()]).toEqual([2, 1, 2]);
  });
});
