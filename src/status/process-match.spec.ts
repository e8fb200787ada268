import { hasPortPair, isPathInside, matchServer } from './process-match.js';
import type { ProbeSnapshot } from './status-probe.js';

const BIN = 'game/bin/linuxsteamrt64/cs2';

describe('isPathInside', () => {
  it.each([
    ['/srv/cs2', '/srv/cs2', true],
    ['/srv/cs2/', '/srv/cs2', true],
    [`/srv/cs2/${BIN}`, '/srv/cs2/', true],
    [`/srv//cs2/./${BIN}`, '/srv/cs2', true],
    [`/srv/cs2-old/${BIN}`, '/srv/cs2', false],
    ['/srv/cs', '/srv/cs2', false],
    [`/srv/cs2/../cs2-old/${BIN}`, '/srv/cs2', false],
    [`./${BIN}`, '/srv/cs2', false],
    [`x/srv/cs2/${BIN}`, '/srv/cs2', false],
  ])('%s inside %s: %s', (arg, directory, expected) => {
    expect(isPathInside(arg, directory)).toBe(expected);
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
      { pid: 10, startTicks: 100, argv: [`/srv/cs2/${BIN}`, '-port', '27016'] },
      { pid: 11, startTicks: 100, argv: ['/usr/bin/other', '-port', '27015'] },
    ]);
    expect(matchServer(split, '/srv/cs2', 27015)).toBeNull();
  });

  it('computes uptime from start ticks and prefers the process whose executable is in the directory', () => {
    const found = snapshot([
      { pid: 20, startTicks: 50_000, argv: ['/bin/sh', `/srv/cs2/game/cs2.sh`, '-dedicated', '-port', '27015'] },
      { pid: 21, startTicks: 60_000, argv: [`/srv/cs2/${BIN}`, '-dedicated', '-port', '27015', '+map', 'de_dust2'] },
    ]);
    expect(matchServer(found, '/srv/cs2', 27015)).toEqual({ pid: 21, uptimeSeconds: 400 });
  });
});
