// The document the built service serves (nest build → dist/main.js) is the one the e2e specs check
// (ts-jest): nothing in it may depend on how the code was compiled.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createTestApp, TEST_TOKEN, type TestApp } from '../support/app.js';
import { createTestDatabase, scratchDir } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/sshd.js';

const ENTRY = join(process.cwd(), 'dist', 'main.js');

describe('the OpenAPI document of the built service', () => {
  let t: TestApp;

  beforeAll(async () => {
    const db = await createTestDatabase('sqlite');
    t = await createTestApp({ DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('equals the one the specs check, and needs the token there too', async () => {
    if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: scripts/test.sh builds it before jest (npm run build)`);
    const port = await freePort();
    const dataDir = scratchDir('openapi-built');
    const env = { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', INTERNAL_TCP_PORT: '0', API_TOKENS: TEST_TOKEN, DATA_DIR: dataDir };
    const child = spawn(process.execPath, [ENTRY], { env: { ...env, DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await eventually('the service to listen', () => output.includes('HTTP listening'), 20_000);
      const url = `http://127.0.0.1:${port}/api/docs-json`;
      expect((await fetch(url)).status).toBe(401);
      const built = await fetch(url, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
      expect(built.status).toBe(200);
      const inProcess = (await t.api.get('/api/docs-json').expect(200)).body;
      expect(await built.json()).toEqual(inProcess);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
