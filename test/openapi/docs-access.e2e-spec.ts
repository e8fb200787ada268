import { runInNewContext } from 'node:vm';
import { DOCS_TOKEN_KEY } from '../../src/openapi/docs-ui.js';
import { createTestApp, errorBody, TEST_TOKEN, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/databases.js';

interface UiRequest {
  url: string;
  headers: Record<string, string>;
}
interface UiConfig {
  url: string;
  requestInterceptor(request: UiRequest): UiRequest;
}

/**
 * Runs the UI's start-up script in a tab that already holds a token, with swagger-ui stubbed: the
 * request rules alone (the page's form and its 401 handling are tested in Chromium, swagger-ui.e2e-spec.ts).
 */
function bootUi(script: string, token: string) {
  const storage = new Map<string, string>([[DOCS_TOKEN_KEY, token]]);
  let config: UiConfig | undefined;
  const window: Record<string, unknown> = {
    location: { href: 'http://cs2-pool.internal:3000/api/docs/', origin: 'http://cs2-pool.internal:3000' },
    sessionStorage: { getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => storage.set(k, v), removeItem: (k: string) => storage.delete(k) },
  };
  const SwaggerUIBundle = Object.assign((options: UiConfig) => ((config = options), {}), { presets: { apis: {} }, plugins: { DownloadUrl: {} } });
  runInNewContext(script, { window, SwaggerUIBundle, SwaggerUIStandalonePreset: {}, URL });
  (window.onload as () => void)();
  return { config: config!, storage };
}

describe('access to the API docs (/api/docs, /api/docs-json)', () => {
  let t: TestApp;

  beforeAll(async () => {
    const db = await createTestDatabase('sqlite');
    t = await createTestApp({ DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses the document without a valid token, with the API’s 401 body and headers', async () => {
    const bare = await t.http.get('/api/docs-json').set('X-Request-Id', 'docs-check-1').expect(401);
    expect(bare.body).toEqual({ ...errorBody(401, 'UNAUTHORIZED'), correlationId: 'docs-check-1' });
    expect(bare.headers).toMatchObject({ 'www-authenticate': 'Bearer', 'x-request-id': 'docs-check-1' });
    await t.http.get('/api/docs-json').auth('not-the-token', { type: 'bearer' }).expect(401);
    await t.http.get('/api/docs-json').set('Authorization', `Basic ${TEST_TOKEN}`).expect(401);
  });

  it('guards every spelling Express routes to the document', async () => {
    for (const path of ['/API/DOCS-JSON', '/api/docs-json/', '/Api/Docs-Json?x=1']) {
      await t.http.get(path).expect(401);
      const served = await t.api.get(path).expect(200);
      expect({ path, openapi: served.body.openapi }).toEqual({ path, openapi: '3.0.0' });
    }
    await t.http.head('/api/docs-json').expect(401);
  });

  it('serves no YAML copy, and guards SwaggerModule’s script that embeds the document', async () => {
    await t.http.get('/api/docs-yaml').expect(401);
    await t.api.get('/api/docs-yaml').expect(404);
    await t.http.get('/api/docs/docs/swagger-ui-init.js').expect(401);
    await t.http.get('/api/docs/swagger-ui-init.js/').expect(401);
  });

  it('serves the UI shell without a token, and nothing in it describes the API', async () => {
    const page = await t.http.get('/api/docs').expect(200).expect('Content-Type', /text\/html/);
    expect(page.text).toContain('swagger-ui-bundle.js');
    await t.http.get('/api/docs/').expect(200);
    for (const file of ['swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'swagger-ui.css']) {
      await t.http.get(`/api/docs/${file}`).expect(200);
    }
    const init = await t.http.get('/api/docs/swagger-ui-init.js').expect(200).expect('Content-Type', /javascript/);
    for (const text of [page.text, init.text]) {
      expect(text).not.toMatch(/\/api\/servers|server-status|ErrorBody|"openapi"/);
    }
  });

  it('UI script: sends the tab’s token to this origin only, and leaves a token set in the Authorize dialog alone', async () => {
    const init = (await t.http.get('/api/docs/swagger-ui-init.js').expect(200)).text;
    expect(init).not.toContain('prompt(');
    const ui = bootUi(init, TEST_TOKEN);
    expect(ui.config.url).toBe('/api/docs-json');

    const first = ui.config.requestInterceptor({ url: 'http://cs2-pool.internal:3000/api/docs-json', headers: {} });
    expect(first.headers).toEqual({ Authorization: `Bearer ${TEST_TOKEN}` });
    await t.http.get(ui.config.url).set(first.headers).expect(200);

    const tryItOut = ui.config.requestInterceptor({ url: '/api/servers', headers: {} });
    expect(tryItOut.headers).toEqual({ Authorization: `Bearer ${TEST_TOKEN}` });
    expect(ui.config.requestInterceptor({ url: 'https://elsewhere.example/collect', headers: {} }).headers).toEqual({});
    const chosen = ui.config.requestInterceptor({ url: '/api/servers', headers: { Authorization: 'Bearer from-authorize-dialog' } });
    expect(chosen.headers).toEqual({ Authorization: 'Bearer from-authorize-dialog' });
  });
});
