// A host with many servers whose game directories are long: the probe's command must stay within
// the kernel's 128 KiB limit on one argument (sshd runs it as `<login shell> -c <command>`).
import { createTestApp, type TestApp } from '../support/app.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { FakeCs2Farm, type FakeCs2 } from './fake-cs2.js';

const SERVERS = 140;
const RUNNING = 97; // not in the first 128 KiB of directories

describe('status of 140 servers with ~1000-character game directories on one host', () => {
  let user: TestUser;
  let sshd: SshdHost;
  let farm: FakeCs2Farm;
  let t: TestApp;
  let fake: FakeCs2;
  const ids: string[] = [];

  // Components stay below NAME_MAX (255); the whole path is ~1000 characters.
  const directory = (i: number) => farm.dir(['a', 'b', 'c'].map((c) => c.repeat(240)).join('/') + `/s${i}-${'d'.repeat(220)}`);

  beforeAll(async () => {
    user = loadTestUser();
    sshd = await startSshd({ address: '127.0.0.44' });
    farm = new FakeCs2Farm(user.username);
    t = await createTestApp({ DATABASE_URL: 'sqlite::memory:', STATUS_CACHE_MS: '0' });
    for (let i = 0; i < SERVERS; i++) {
      const body = sshServerBody(sshd, user, { name: `long-${i}`, gameDirectory: directory(i), gamePort: 20000 + i });
      ids.push((await t.api.post('/api/servers').send(body).expect(201)).body.id);
    }
    fake = farm.start(directory(RUNNING), ['-dedicated', '-port', String(20000 + RUNNING)]);
    await farm.started();
  });
  afterAll(async () => {
    await t?.close();
    farm?.stop();
    await sshd?.stop();
  });

  it('finds the running one and answers every other as reachable and stopped', async () => {
    expect(directory(0).length).toBeGreaterThan(950);
    const res = await t.api.get('/api/server-status').expect(200);
    const byId = new Map((res.body as { serverId: string }[]).map((s) => [s.serverId, s]));
    expect(byId.get(ids[RUNNING])).toMatchObject({ reachable: true, running: true, pid: fake.pid });
    const others = ids.filter((_, i) => i !== RUNNING).map((id) => byId.get(id));
    expect(others.filter((s) => !(s && 'reachable' in s && s.reachable === true && !('error' in s)))).toEqual([]);
  });
});
