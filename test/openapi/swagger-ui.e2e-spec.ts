// The Swagger UI page in a real headless Chromium (Debian `chromium`, provisioned by scripts/test.sh):
// the token goes in through a field on the page, never a blocking prompt, and every route is listed once.
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { DOCS_TOKEN_FORM, DOCS_TOKEN_KEY } from '../../src/openapi/docs-ui.js';
import { createTestApp, TEST_TOKEN, type TestApp } from '../support/app.js';
import { type OpenAPIObject, operations } from './openapi-support.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));

/** "GET /api/servers/{id}" for every operation the page shows, in page order (duplicates kept). */
async function listedRoutes(page: Page): Promise<string[]> {
  return page.$$eval('.opblock', (blocks) =>
    blocks.map((block) => {
      const method = block.querySelector('.opblock-summary-method')?.textContent?.trim() ?? '?';
      const path = block.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? '?';
      return `${method.toUpperCase()} ${path}`;
    }),
  );
}

async function submitToken(page: Page, token: string): Promise<void> {
  await page.waitForSelector(`#${DOCS_TOKEN_FORM.input}`, { visible: true });
  await page.type(`#${DOCS_TOKEN_FORM.input}`, token);
  await page.click(`#${DOCS_TOKEN_FORM.form} button[type=submit]`);
}

describe('the API docs page in headless Chromium', () => {
  let t: TestApp;
  let doc: OpenAPIObject;
  let base: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!CHROMIUM) {
      throw new Error('Chromium is not installed, so the docs page cannot be tested: scripts/test.sh installs Debian `chromium` when run as root (apt-get install chromium)');
    }
    t = await createTestApp({ DATABASE_URL: 'sqlite::memory:' });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    doc = (await t.api.get('/api/docs-json').expect(200)).body as OpenAPIObject;
    // --no-sandbox: the suite runs as root, where Chromium's sandbox refuses to start.
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('takes the token in a field on the page (a wrong one is refused there), then lists every route once', async () => {
    const page = await browser!.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(`${base}/api/docs`, { waitUntil: 'load' });

    await submitToken(page, 'not-the-token');
    await page.waitForFunction(`/401/.test(document.getElementById(${JSON.stringify(DOCS_TOKEN_FORM.message)})?.textContent ?? '')`, { timeout: 30_000 });
    expect(await page.$$('.opblock')).toHaveLength(0);
    expect(await page.evaluate(`window.sessionStorage.getItem(${JSON.stringify(DOCS_TOKEN_KEY)})`)).toBeNull(); // refused: forgotten

    await submitToken(page, TEST_TOKEN);
    const expected = operations(doc).map((o) => `${o.method.toUpperCase()} ${o.path}`);
    await page.waitForFunction(`document.querySelectorAll('.opblock').length >= ${expected.length}`, { timeout: 30_000 });
    expect((await listedRoutes(page)).sort()).toEqual([...expected].sort());
    // The form is gone, and Swagger UI's own Authorize dialog holds the token for "Try it out".
    expect(await page.$eval(`#${DOCS_TOKEN_FORM.form}`, (form) => (form as unknown as { hidden: boolean }).hidden)).toBe(true);
    expect(await page.evaluate('window.ui.authSelectors.authorized().toJS()')).toEqual({
      bearer: expect.objectContaining({ value: TEST_TOKEN }),
    });
    expect(dialogs).toEqual([]);
  }, 90_000);

  it('loads at once in a tab that already has the token, without asking again', async () => {
    const page = await browser!.newPage();
    await page.goto(`${base}/api/docs`, { waitUntil: 'load' });
    await submitToken(page, TEST_TOKEN);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    expect(await page.$eval(`#${DOCS_TOKEN_FORM.form}`, (form) => (form as unknown as { hidden: boolean }).hidden).catch(() => 'no form')).toBe('no form');
  }, 90_000);
});

describe('the OpenAPI document’s tags', () => {
  it('puts every route under exactly one tag, so that the UI lists it once', async () => {
    const t = await createTestApp({ DATABASE_URL: 'sqlite::memory:' });
    try {
      const doc = (await t.api.get('/api/docs-json').expect(200)).body as OpenAPIObject;
      const tags = operations(doc).map((o) => ({ route: o.route, tags: o.operation.tags ?? [] }));
      expect(tags.filter((o) => o.tags.length !== 1)).toEqual([]);
      // Tags are lower case, one per feature: none differs from another only in case.
      const names = [...new Set(tags.flatMap((o) => o.tags))];
      expect(names.filter((name) => name !== name.toLowerCase())).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
