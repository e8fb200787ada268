import { execFileSync } from 'node:child_process';
import { FakeCs2Farm, type FakeCs2 } from '../../test/status/fake-cs2.js';
import { shellQuote } from '../common/shell-quote.js';
import { decodeArgv, MAX_CMDLINE_BYTES, MAX_PROBE_DIRECTORY_BYTES, mergeSnapshots, parseProbeOutput, probeCommands, PROBE_SCRIPT, ProbeOutputError } from './status-probe.js';

/** What a login shell does with the pool's command string: `sh -c <command>`. */
const runShell = (command: string): string => execFileSync('sh', ['-c', command], { encoding: 'latin1' });

describe('shellQuote', () => {
  it.each(["it's", '$(touch /tmp/pwned)', '`id`', 'a b\tc', 'line\nbreak', '\\', "''", '"$HOME"', '-e', '*', ''])(
    'round-trips %j through sh',
    (value) => {
      expect(runShell(`printf %s ${shellQuote(value)}`)).toBe(value);
    },
  );
});

describe('probe script', () => {
  let farm: FakeCs2Farm;
  let root: string;
  let fake: FakeCs2;
  let linuxGsm: FakeCs2;

  beforeAll(async () => {
    farm = new FakeCs2Farm('root');
    root = farm.root;
    fake = farm.start(farm.dir('srv/cs2'), ['-dedicated', '-port', '27015', '+hostname', "it's a\nserver"]);
    linuxGsm = farm.start(farm.dir('srv/lgsm'), ['-dedicated', '-port', '27016'], { relative: true });
    farm.start(farm.dir('srv/other'), ['-dedicated', '-port', '27017'], { relative: true }); // runs in no probed directory
    await farm.started();
  });
  afterAll(() => farm?.stop());

  it('is fixed text with no value of a server in it', () => {
    expect(PROBE_SCRIPT).not.toMatch(/'/);
    const commands = probeCommands([`${root}/srv/cs2/`, `${root}/srv/cs2`, `${root}/nowhere`]);
    expect(commands).toEqual([`sh -c ${shellQuote(PROBE_SCRIPT)} sh ${shellQuote(`${root}/srv/cs2`)} ${shellQuote(`${root}/nowhere`)}`]);
  });

  it('splits directories that would pass the 128 KiB limit on one argument into several commands', () => {
    const directories = Array.from({ length: 140 }, (_, i) => `/srv/${'x'.repeat(990)}/s${i}`);
    const commands = probeCommands(directories);
    expect(commands).toHaveLength(Math.ceil((140 * 1000) / MAX_PROBE_DIRECTORY_BYTES));
    expect(commands.every((c) => Buffer.byteLength(c) < 128 * 1024)).toBe(true);
    const prefix = `sh -c ${shellQuote(PROBE_SCRIPT)} sh `;
    expect(commands.flatMap((c) => (c.startsWith(prefix) ? c.slice(prefix.length).split(' ') : [c]))).toEqual(directories.map(shellQuote));
  });

  it('reads the exact argv, pid, start and working directory of candidates, and not its own', async () => {
    const startOf = (pid: number) => Number(execFileSync('sh', ['-c', `cut -d' ' -f22 /proc/${pid}/stat`], { encoding: 'utf8' }));
    const snapshot = parseProbeOutput(runShell(probeCommands([`${root}/srv/cs2`, `${root}/srv/lgsm`])[0]));
    expect(snapshot.truncated).toBe(false);
    expect(snapshot.clockTicksPerSecond).toBeGreaterThan(0);
    // The probe lists /proc in glob (text) order, so compare by pid.
    expect([...snapshot.processes].sort((a, b) => a.pid - b.pid)).toEqual([
      {
        pid: fake.pid,
        startTicks: startOf(fake.pid),
        cwd: root,
        argv: [`${root}/srv/cs2/game/bin/linuxsteamrt64/cs2`, '-c', 'sleep 600 & wait', 'cs2', '-dedicated', '-port', '27015', '+hostname', "it's a\nserver"],
      },
      {
        pid: linuxGsm.pid,
        startTicks: startOf(linuxGsm.pid),
        cwd: `${root}/srv/lgsm/game/bin/linuxsteamrt64`,
        argv: ['./cs2', '-c', 'sleep 600 & wait', 'cs2', '-dedicated', '-port', '27016'],
      },
    ].sort((a, b) => a.pid - b.pid));
  });
});

describe('parseProbeOutput', () => {
  it('refuses output without its header or end marker, or with a foreign line', () => {
    expect(() => parseProbeOutput('')).toThrow(ProbeOutputError);
    expect(() => parseProbeOutput('H 100 12.5\nP 1 2\n 61 00\n')).toThrow(ProbeOutputError);
    expect(() => parseProbeOutput('H 100 12.5\nhello\nE\n')).toThrow(ProbeOutputError);
  });

  it('reports a cut candidate list', () => {
    expect(parseProbeOutput('H 100 12.5\nP 7 9\n 61 00 62 00\nT\nE\n')).toEqual({
      clockTicksPerSecond: 100,
      uptimeSeconds: 12.5,
      truncated: true,
      processes: [{ pid: 7, startTicks: 9, cwd: null, argv: ['a', 'b'] }],
    });
  });
});

describe('mergeSnapshots', () => {
  it('lists each process once and is incomplete when any part was', () => {
    const part = (pids: number[], truncated: boolean) => ({ clockTicksPerSecond: 100, uptimeSeconds: 5, truncated, processes: pids.map((pid) => ({ pid, startTicks: pid, cwd: null, argv: [] })) });
    expect(mergeSnapshots([part([1, 2], false), part([2, 3], true)])).toEqual({ ...part([1, 2, 3], true) });
    expect(mergeSnapshots([part([1], false)])).toEqual(part([1], false));
  });
});

describe('decodeArgv', () => {
  it('keeps a last argument without NUL, drops one cut at the read limit', () => {
    expect(decodeArgv('61 00 62')).toEqual(['a', 'b']);
    const cut = `${'61 00 '.repeat(MAX_CMDLINE_BYTES / 2 - 1)}2d 70`;
    expect(decodeArgv(cut)).toHaveLength(MAX_CMDLINE_BYTES / 2 - 1);
  });
});
