import type { ServerEntity } from '../servers/server.entity.js';
import { ProbeFailureCode, toServerStatus, type ProbeOutcome } from './status.dto.js';

const server = { id: 'id-1', gameDirectory: '/srv/cs2', gamePort: 27015, sshPasswordEnc: 'sealed' } as ServerEntity;
const checkedAt = new Date('2026-11-27T10:00:00.000Z');
const snapshot = (truncated: boolean, argv: string[]): ProbeOutcome => ({
  kind: 'snapshot',
  snapshot: { clockTicksPerSecond: 100, uptimeSeconds: 500, truncated, processes: [{ pid: 9, startTicks: 20_000, cwd: null, argv }] },
  checkedAt,
  latencyMs: 12,
});

describe('toServerStatus', () => {
  it('answers running with pid and uptime, and nothing but the contract fields', () => {
    expect(toServerStatus(server, snapshot(true, ['/srv/cs2/game/bin/linuxsteamrt64/cs2', '-port', '27015']))).toEqual({
      serverId: 'id-1',
      reachable: true,
      running: true,
      pid: 9,
      uptimeSeconds: 300,
      checkedAt: '2026-11-27T10:00:00.000Z',
      latencyMs: 12,
    });
  });

  it('says a negative answer from a cut candidate list is incomplete', () => {
    const other = ['/srv/other/cs2', '-port', '27015'];
    expect(toServerStatus(server, snapshot(true, other))).toMatchObject({ running: false, error: ProbeFailureCode.INCOMPLETE });
    expect(toServerStatus(server, snapshot(false, other))).not.toHaveProperty('error');
  });

  it('passes a failed probe on as not reachable with its code', () => {
    const failed: ProbeOutcome = { kind: 'failed', reachable: false, error: 'SSH_HOST_DOWN', checkedAt, latencyMs: 3 };
    expect(toServerStatus(server, failed)).toEqual({
      serverId: 'id-1', reachable: false, running: false, error: 'SSH_HOST_DOWN', checkedAt: '2026-11-27T10:00:00.000Z', latencyMs: 3,
    });
  });
});
