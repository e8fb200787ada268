import { PeerErrorLog } from './peer-error-log.js';

describe('PeerErrorLog', () => {
  it('writes at most `burst` lines a window, then says how many it left out', () => {
    const lines: string[] = [];
    let now = 0;
    const log = new PeerErrorLog({ warn: (line: string) => lines.push(line) }, 2, 1000, () => now);
    for (let i = 0; i < 5; i++) log.warn(`bad frame ${i}`);
    expect(lines).toEqual(['bad frame 0', 'bad frame 1']);
    now = 1000;
    log.warn('bad frame 5');
    expect(lines).toEqual(['bad frame 0', 'bad frame 1', 'bad frame 5 (and 3 more peer error(s) not logged in the last 1 s)']);
  });
});
