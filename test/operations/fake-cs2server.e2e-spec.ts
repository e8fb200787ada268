// Proves the fake LinuxGSM `cs2server` the operations specs rely on, run over real ssh (OpenSSH client
// against the harness sshd) as the test user: the way the service will run it.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSshd, type SshdHost } from '../support/sshd.js';
import { readUserFile } from '../support/test-user.js';
import { FakeCs2ServerFarm, isAlive, processesEnd, type FakeCs2Server } from './fake-cs2server.js';
import { shQuote } from './fake-cs2server-script.js';

const run = promisify(execFile);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function sshArgs(host: SshdHost, command: string): string[] {
  const user = readUserFile();
  return [
    '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'LogLevel=ERROR',
    '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-i', user.privateKeyPath, '-p', String(host.port), `${user.username}@${host.host}`, command,
  ];
}

/** Runs `'<script>' <action>` over ssh; rejects when the channel is still open after 10 s. */
async function ssh(host: SshdHost, server: FakeCs2Server, action: string): Promise<Result> {
  try {
    const { stdout, stderr } = await run('ssh', sshArgs(host, `${shQuote(server.controlScript)} ${action}`), { timeout: 10_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; killed?: boolean; stdout: string; stderr: string };
    if (e.killed || typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const lines = (text: string) => text.split('\n').filter(Boolean);
const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean);
const children = (pid: number) => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
const pgid = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
};

describe('fake LinuxGSM cs2server over real ssh', () => {
  let sshd: SshdHost;
  let farm: FakeCs2ServerFarm;

  beforeAll(async () => {
    sshd = await startSshd({ address: '127.0.0.1' });
    farm = new FakeCs2ServerFarm(readUserFile().username);
  });
  afterAll(async () => {
    farm?.cleanup();
    await sshd?.stop();
  });

  it('start detaches a cs2 that the status rule sees (path in the game directory, -port N), stop ends it with its sleep', async () => {
    const server = farm.add('game', 27115);
    const started = await ssh(sshd, server, 'start'); // returns: the detached game holds no end of the channel
    expect(started.code).toBe(0);
    const pid = server.gamePid();
    expect(pid).toEqual(expect.any(Number));
    expect(lines(started.stdout)).toEqual(['[ .... ] Starting cs2server: 27115', `[  OK  ] Starting cs2server: pid ${pid}`]);
    expect(cmdline(pid!)).toEqual([server.binary, '-c', 'sleep 600 & wait', 'cs2', '-dedicated', '-port', '27115', '+map', 'de_dust2']);
    expect(pgid(pid!)).toBe(pid);
    const [sleep] = children(pid!);
    expect(cmdline(sleep)).toEqual(['sleep', '600']);

    const again = await ssh(sshd, server, 'start');
    expect([again.code, lines(again.stdout), server.gamePid()]).toEqual([0, [`[ INFO ] Starting cs2server: cs2server is already running (pid ${pid})`], pid]);

    const restarted = await ssh(sshd, server, 'restart');
    expect(restarted.code).toBe(0);
    const newPid = server.gamePid();
    expect(newPid).toEqual(expect.any(Number));
    expect(newPid).not.toBe(pid);
    expect([isAlive(pid!), isAlive(sleep)]).toEqual([false, false]);

    const newSleep = children(newPid!)[0];
    const stopped = await ssh(sshd, server, 'stop');
    expect([stopped.code, lines(stopped.stdout)]).toEqual([0, [`[ .... ] Stopping cs2server: pid ${newPid}`, '[  OK  ] Stopping cs2server: stopped']]);
    expect([server.gamePid(), isAlive(newPid!), isAlive(newSleep)]).toEqual([undefined, false, false]);
    const again2 = await ssh(sshd, server, 'stop');
    expect([again2.code, lines(again2.stdout)]).toEqual([0, ['[ INFO ] Stopping cs2server: cs2server is already stopped']]);
  });

  it.each(['update', 'validate'] as const)('%s prints SteamCMD progress on stdout, warnings on stderr, and exits 0', async (action) => {
    const server = farm.add(`ok-${action}`, 27116);
    server.configureUpdate({ steps: 4, intervalS: 0.05 });
    const result = await ssh(sshd, server, action);
    const expected = server.expectedOutput(action);
    expect({ code: result.code, stdout: lines(result.stdout), stderr: lines(result.stderr) }).toEqual({ code: 0, stdout: expected.stdout, stderr: expected.stderr });
    expect(expected.percents).toEqual([25, 50, 75, 100]);
    expect(expected.stdout[1]).toBe(
      action === 'update'
        ? ' Update state (0x61) downloading, progress: 25.00 (1000 / 4000)'
        : ' Update state (0x5) verifying install, progress: 25.00 (1000 / 4000)',
    );
    const pids = server.updatePids()!;
    expect([isAlive(pids.shell), isAlive(pids.helper)]).toEqual([false, false]);
  });

  it('told to redraw, an update prints each progress line twice, the first copy ended by a lone CR', async () => {
    const server = farm.add('redraw', 27122);
    server.configureUpdate({ steps: 2, intervalS: 0.05, redraw: true });
    const result = await ssh(sshd, server, 'update');
    const p1 = ' Update state (0x61) downloading, progress: 50.00 (1000 / 2000)';
    const p2 = ' Update state (0x61) downloading, progress: 100.00 (2000 / 2000)';
    expect(result.stdout).toBe(`[ .... ] update: cs2server via SteamCMD\n${p1}\r${p1}\n${p2}\r${p2}\nSuccess! App '730' fully installed.\n`);
    expect(server.expectedOutput('update').stdout.slice(1, 5)).toEqual([p1, p1, p2, p2]);
  });

  it('an update told to fail exits with that code after its progress, the error on stderr', async () => {
    const server = farm.add('fail', 27117);
    server.configureUpdate({ steps: 3, intervalS: 0.05, exitCode: 7 });
    const result = await ssh(sshd, server, 'update');
    const expected = server.expectedOutput('update');
    expect({ code: result.code, stdout: lines(result.stdout), stderr: lines(result.stderr) }).toEqual({ code: 7, stdout: expected.stdout, stderr: expected.stderr });
    expect(expected.percents).toEqual([33.33, 66.66, 100]);
    expect(expected.stderr.at(-1)).toBe("Error! App '730' state is 0x602 after update job.");
  });

  it('a running update is one process group: its shell and SteamCMD stand-in both end when the group is signalled', async () => {
    const server = farm.add('cancel', 27118);
    server.configureUpdate({ steps: 100, intervalS: 0.2 });
    const client = spawn('ssh', sshArgs(sshd, `${shQuote(server.controlScript)} update`), { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => client.once('exit', (code) => resolve(code)));
    const { shell, helper } = await server.updateRunning();
    expect(cmdline(shell)).toEqual(['/bin/sh', server.controlScript, 'update']);
    expect(cmdline(helper)).toEqual(['sleep', '600.27118']);
    expect(pgid(helper)).toBe(pgid(shell));

    process.kill(-pgid(shell), 'SIGTERM');
    await processesEnd([shell, helper], 5000);
    expect(await exited).not.toBe(0);
  });

  it('told to ignore SIGTERM, an update and its helper outlive a group SIGTERM and end with SIGKILL', async () => {
    const server = farm.add('stubborn', 27121);
    server.configureUpdate({ steps: 100, intervalS: 0.1, ignoreTerm: true });
    const client = spawn('ssh', sshArgs(sshd, `${shQuote(server.controlScript)} update`), { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => client.once('exit', (code) => resolve(code)));
    const { shell, helper } = await server.updateRunning();
    process.kill(-pgid(shell), 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300)); // two progress lines' time: a live shell would be gone by now
    expect([isAlive(shell), isAlive(helper)]).toEqual([true, true]);
    process.kill(-pgid(shell), 'SIGKILL');
    await processesEnd([shell, helper], 5000);
    expect(await exited).not.toBe(0);
  });

  it('an unknown command exits 2 with a message on stderr', async () => {
    const server = farm.add('unknown', 27119);
    expect(await ssh(sshd, server, 'explode')).toEqual({ code: 2, stdout: '', stderr: 'Unknown command: explode\n' });
  });

  it('cleanup ends a running game and an update whose pid files a later run overwrote, and removes the tree', async () => {
    const other = new FakeCs2ServerFarm(readUserFile().username);
    const server = other.add('leftovers', 27120);
    server.configureUpdate({ steps: 100, intervalS: 0.2 });
    await ssh(sshd, server, 'start');
    const game = server.gamePid()!;
    const client = spawn('ssh', sshArgs(sshd, `${shQuote(server.controlScript)} update`), { stdio: 'ignore' });
    const exited = new Promise((resolve) => client.once('exit', resolve));
    const { shell, helper } = await server.updateRunning();
    writeFileSync(join(server.dir, 'update.pid'), '999999\n');
    writeFileSync(join(server.dir, 'helper.pid'), '999999\n');

    other.cleanup();
    await processesEnd([game, shell, helper]);
    expect(existsSync(other.root)).toBe(false);
    await exited;
  });
});
