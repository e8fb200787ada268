import { hasPortPair, isGameExecutable, matchServer } from './process-match.js';
import type { ProbeSnapshot } from './status-probe.js';

const BIN = 'game/bin/linuxsteamrt64/cs2';

describe('isGameExecutable', () => {
  it.each([
    [`/srv/cs2/${BIN}`, '/srv/cs2', true],
    [`/srv/cs2/${BIN}`, '/srv/cs2/', true],
    [`/srv//cs2/./${BIN}`, '/srv/cs2', true],
    [`/srv/cs2/../cs2/${BIN}`, '/srv/cs2', true],
    [`/srv/cs2-old/${BIN}`, '/srv/cs2', false],
    [`/srv/cs2/../cs2-old/${BIN}`, '/srv/cs2', false],
    ['/srv/cs2', '/srv/cs2', false],
    ['/srv/cs2/game/cs2.sh', '/srv/cs2', false],
    [`/srv/cs2/${BIN}/x`, '/srv/cs2', false],
    [`./${BIN}`, '/srv/cs2', false],
    [`x/srv/cs2/${BIN}`, '/srv/cs2', false],
  ])('%s of %s: %s', (path, directory, expected) => {
    expect(isGameExecutable(path, directory)).toBe(expected);
  });
});

describe('hasPortPair', () => {
  it.each([
    [['-dedicated', '-port', '27015'], true],
    [['-port', '270150'], false],
    [['-port', '2701'], false],
    [['-port_x', '27015'], false],
    [['x-port', '27015'], false],
    [['-port 27015'], false],
    [['27015', '-port'], false],
    [['-port', ' 27015'], false],
  ])('%j → %s', (argv, expected) => {
    expect(hasPortPair(argv, 27015)).toBe(expected);
  });
});

describe('matchServer', () => {
  const snapshot = (processes: ProbeSnapshot['processes']): ProbeSnapshot => ({
    clockTicksPerSecond: 100,
    uptimeSeconds: 1000.5,
    processes,
    truncated: false,
  });

  it('needs the path and the port pair in the same process', () => {
    const split = snapshot([
      { pid: 10, startTicks: 100, cwd: null, argv: [`/srv/cs2/${BIN}`, '-port', '27016'] },
      { pid: 11, startTicks: 100, cwd: null, argv: ['/usr/bin/other', '-port', '27015'] },
    ]);
    expect(matchServer(split, '/srv/cs2', 27015)).toBeNull();
  });

  it('counts only the game executable, not a process that names a path in the directory with the port', () => {
    const others = snapshot([
      { pid: 40, startTicks: 100, cwd: '/home/u', argv: ['bash', '-c', 'tail -f "$1"', 'bash', '/home/u/g/s2/log.txt', '-port', '27002'] },
      { pid: 41, startTicks: 100, cwd: null, argv: ['/home/u/g/s2/game/cs2.sh', '-dedicated', '-port', '27002'] },
      { pid: 42, startTicks: 100, cwd: '/home/u/g/s2/game/bin/linuxsteamrt64', argv: ['./steamcmd', '-port', '27002'] },
      { pid: 43, startTicks: 100, cwd: null, argv: ['/usr/bin/tmux', 'new', '/home/u/g/s2/game/bin/linuxsteamrt64/cs2', '-port', '27002'] },
    ]);
    expect(matchServer(others, '/home/u/g/s2', 27002)).toBeNull();
  });

  it('computes uptime from start ticks and picks the game executable, not its wrapper script', () => {
    const found = snapshot([
      { pid: 20, startTicks: 50_000, cwd: null, argv: ['/bin/sh', `/srv/cs2/game/cs2.sh`, '-dedicated', '-port', '27015'] },
      { pid: 21, startTicks: 60_000, cwd: null, argv: [`/srv/cs2/${BIN}`, '-dedicated', '-port', '27015', '+map', 'de_dust2'] },
    ]);
    expect(matchServer(found, '/srv/cs2', 27015)).toEqual({ pid: 21, uptimeSeconds: 400 });
  });

  it('resolves a relative executable against the working directory (LinuxGSM runs ./cs2 there)', () => {
    const bin = '/srv/cs2/game/bin/linuxsteamrt64';
    const argv = ['./cs2', '-dedicated', '-port', '27015'];
    expect(matchServer(snapshot([{ pid: 30, startTicks: 100, cwd: bin, argv }]), '/srv/cs2', 27015)).toMatchObject({ pid: 30 });
    expect(matchServer(snapshot([{ pid: 31, startTicks: 100, cwd: '/srv/cs2-old/game', argv }]), '/srv/cs2', 27015)).toBeNull();
    expect(matchServer(snapshot([{ pid: 32, startTicks: 100, cwd: null, argv }]), '/srv/cs2', 27015)).toBeNull();
    // A bare name was found through PATH: the working directory says nothing about it.
    const bare = ['cs2', '-dedicated', '-port', '27015'];
    expect(matchServer(snapshot([{ pid: 33, startTicks: 100, cwd: bin, argv: bare }]), '/srv/cs2', 27015)).toBeNull();
    // Only argv[0] is resolved; a relative argument is not a path into the directory.
    const relArg = ['/usr/bin/tool', '../cs2/x', '-port', '27015'];
    expect(matchServer(snapshot([{ pid: 34, startTicks: 100, cwd: bin, argv: relArg }]), '/srv/cs2', 27015)).toBeNull();
  });
});
