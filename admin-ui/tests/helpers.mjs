// Shared set-up for the browser tests: the server and accounts come from
// scripts/test-admin-ui.sh through environment variables.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run scripts/test-admin-ui.sh)`);
  return v;
}

export const env = {
  base: need('GATEHOUSE_URL'),
  admin: { email: need('ADMIN_EMAIL'), password: need('ADMIN_PASSWORD') },
  staff: { email: need('STAFF_EMAIL'), password: need('STAFF_PASSWORD') },
  creator: { email: need('CREATOR_EMAIL'), password: need('CREATOR_PASSWORD') },
  dashboard: { id: need('DASHBOARD_CLIENT_ID'), key: need('DASHBOARD_API_KEY') },
  web: { id: need('WEB_CLIENT_ID'), key: need('WEB_API_KEY') },
  shots: process.env.SCREENSHOT_DIR || join(process.cwd(), 'artifacts/screenshots'),
};
mkdirSync(env.shots, { recursive: true });

// Chromium has crashed at launch on this machine (SIGSEGV before any
// page), once in many runs: a second launch is tried before failing.
export async function launch() {
  const open = () => chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    return await open();
  } catch (e) {
    console.error(`chromium did not start (${e.message.split('\n')[0]}); trying once more`);
    return open();
  }
}

/**
 * One browser for the calling test file, launched before its tests and
 * closed after them; returns a function that opens a page in it.
 */
export function pages() {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });
  return () => newPage(browser);
}

/** A page that records console errors and CSP violations. */
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') page.problems.push(m.text());
  });
  page.on('pageerror', (e) => page.problems.push(String(e)));
  return page;
}

export async function shot(page, name, { full = true } = {}) {
  await page.evaluate(() => document.querySelector('.toasts')?.replaceChildren());
  await page.screenshot({ path: join(env.shots, `${name}.png`), fullPage: full });
}

/** Only the problems that are not expected 4xx answers logged by Chrome. */
export function cspProblems(page) {
  return page.problems.filter((p) => /Content Security Policy|Refused to/i.test(p));
}

/** A direct API call from Node (no Origin header), as a frontend would. */
export async function call(client, method, path, body, token) {
  const headers = { 'X-API-Key': client.key, 'X-Client-ID': client.id };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(env.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  return { status: r.status, body: data };
}

export async function signIn(page, who) {
  await page.goto(`${env.base}/admin/`);
  await page.fill('input[name=email]', who.email);
  await page.fill('input[name=password]', who.password);
  await page.click('button[type=submit]');
}

export async function shotOf(locator, name) {
  await locator.screenshot({ path: join(env.shots, `${name}.png`) });
}

/** A new admin made through the admin API (as the shared admin), for a test
 *  that gives it second factors: the shared accounts stay without. Its
 *  username is its address's local part. */
export async function freshAdmin(tag, password) {
  const login = await call(env.dashboard, 'POST', '/api/auth/token/', env.admin);
  assert.equal(login.status, 200);
  const n = `${tag}${Date.now().toString(36)}`;
  const made = await call(env.dashboard, 'POST', '/api/admin/users/', { email: `${n}@example.com`, username: n, password, user_type: 'admin' }, login.body.access);
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return { email: `${n}@example.com`, password }; // the username: the address's local part
}
