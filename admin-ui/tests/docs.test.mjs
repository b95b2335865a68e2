// Swagger UI and Redoc, served from the binary's own assets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cspProblems, env, pages, shot, shotOf } from './helpers.mjs';

const openPage = pages();

describe('API docs', () => {
  it('Swagger UI renders the document and "Try it out" logs in', async () => {
    const page = await openPage();
    const offsite = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(env.base) && !r.url().startsWith('data:')) offsite.push(r.url());
    });
    await page.goto(`${env.base}/api/schema/swagger/`);
    const op = page.locator('.opblock-summary-path[data-path="/api/auth/token/"]').first();
    await op.waitFor({ timeout: 20000 });
    await shot(page, 'swagger', { full: false });

    // Authorize with the API-key headers (the bearer scheme is not needed here).
    await page.click('.btn.authorize');
    const fill = async (header, value) => {
      const box = page.locator('.auth-container', { hasText: header });
      await box.locator('input').fill(value);
      await box.locator('button.authorize').click();
    };
    await fill('X-API-Key', env.web.key);
    await fill('X-Client-ID', env.web.id);
    await page.click('.modal-ux .btn-done, .modal-ux button.close-modal');

    await op.click();
    const block = page.locator('.opblock', { has: page.locator('.opblock-summary-path[data-path="/api/auth/token/"]') }).first();
    await block.locator('.try-out__btn').click();
    await block.locator('textarea.body-param__text').fill(JSON.stringify({ email: env.staff.email, password: env.staff.password }));
    await block.locator('button.execute').click();
    const status = block.locator('.live-responses-table tbody .response-col_status').first();
    await status.waitFor({ timeout: 15000 });
    assert.equal((await status.textContent()).trim(), '200');
    const body = await block.locator('.live-responses-table tbody .microlight, .live-responses-table tbody pre').first().textContent();
    assert.match(body, /"access"/);
    assert.match(body, /"refresh"/);
    await shotOf(block, 'swagger-try-it-out');
    assert.deepEqual(offsite, [], 'no request leaves the server');
    assert.deepEqual(cspProblems(page), []);
    await page.context().close();
  });

  it('Redoc renders the document', async () => {
    const page = await openPage();
    await page.goto(`${env.base}/api/schema/redoc/`);
    await page.locator('h1', { hasText: /Gatehouse/i }).first().waitFor({ timeout: 20000 });
    await page.locator('text=/api/auth/token/').first().waitFor();
    await shot(page, 'redoc', { full: false });
    assert.deepEqual(cspProblems(page), []);
    await page.context().close();
  });
});
