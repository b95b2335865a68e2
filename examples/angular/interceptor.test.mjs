// The interceptor's own paths, which the shared flow (examples/e2e/flow.mjs) cannot
// reach: there, the access token has always expired by the clock, so the
// interceptor refreshes before sending. Here the server rejects a token the app
// still believes valid:
//  1. a 401 → exactly one refresh through the client → the request is retried once
//     with the new token and succeeds;
//  2. a 401 when the refresh token is dead too → the client ends the session
//     (sessionExpired) and the app leaves /profile for /login.
// Usage: node interceptor.test.mjs <app-base-url>  (the built app, served with
// /config.json, against a running gatehouse; test.sh does this).
import { createRequire } from 'node:module';

// playwright-core comes from the shared e2e folder (installed once there).
const require = createRequire(new URL('../e2e/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const base = (process.argv[2] || '').replace(/\/+$/, '');
if (!base) {
  console.error('usage: node interceptor.test.mjs <app-base-url>');
  process.exit(2);
}
const WAIT = Number(process.env.FLOW_TIMEOUT_MS || 15000);

async function until(cond, what, ms = WAIT) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await Promise.resolve().then(cond).catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
function assert(ok, msg) {
  if (!ok) throw new Error(msg);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await (await browser.newContext()).newPage();
const calls = [];
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
// Recorded in the order the answers came; `auth` is filled in a moment later.
page.on('response', async (r) => {
  const req = r.request();
  const u = new URL(r.url());
  if (!u.pathname.startsWith('/api/') || req.method() === 'OPTIONS') return;
  const call = { method: req.method(), path: u.pathname, status: r.status(), auth: undefined };
  calls.push(call);
  call.auth = await req.headerValue('authorization');
});
// The calls since `from` once `n` have been recorded in full: the page may show
// the outcome before this process has heard of the last answer.
const recorded = (from, n) =>
  until(() => { const c = calls.slice(from); return c.length >= n && c.every((x) => x.auth !== undefined) && c; }, `${n} answers recorded`);
const tid = (id) => page.getByTestId(id);
const show = (c) => c.map((x) => `${x.method} ${x.path} ${x.status}`).join(', ');

// Replaces the stored access token with one whose payload says it lives another hour
// (so the interceptor sends it without refreshing) and whose signature is wrong (so
// the server answers 401). With `killRefresh`, the refresh token is garbage too.
async function forge(killRefresh) {
  return page.evaluate((killRefresh) => {
    const key = 'gatehouse.session';
    const s = JSON.parse(localStorage.getItem(key));
    const [h, p, sig] = s.access.split('.');
    const claims = JSON.parse(atob(p.replace(/-/g, '+').replace(/_/g, '/')));
    claims.exp = claims.iat + 3600;
    const p2 = btoa(JSON.stringify(claims)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    s.access = `${h}.${p2}.${sig.slice(0, -4)}AAAA`;
    if (killRefresh) s.refresh = 'x.y.z';
    localStorage.setItem(key, JSON.stringify(s));
    return s.access;
  }, killRefresh);
}

let step = 'register';
try {
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const email = `ng-interceptor-${stamp}@example.com`;
  const password = `Gatehouse-${stamp}-horse`;
  await page.goto(base + '/register');
  await tid('register-email').fill(email);
  await tid('register-username').fill(`ng_int_${stamp}`);
  await tid('register-password').fill(password);
  await tid('register-password2').fill(password);
  await tid('register-submit').click();
  await tid('profile-page').waitFor({ timeout: WAIT });
  await until(async () => (await tid('profile-email').textContent())?.trim() === email, 'the profile');

  step = '401 → one refresh → one retry';
  let forged = await forge(false);
  let from = calls.length;
  await tid('profile-first_name').fill('Retried');
  await tid('profile-save').click();
  await tid('profile-saved').waitFor({ timeout: WAIT });
  let c = await recorded(from, 3);
  assert(c.length === 3, `expected PATCH 401, refresh 200, PATCH 200; got: ${show(c)}`);
  assert(c[0].method === 'PATCH' && c[0].status === 401 && c[0].auth === `Bearer ${forged}`, `first: ${show(c)}`);
  assert(c[1].path === '/api/auth/token/refresh/' && c[1].status === 200, `second: ${show(c)}`);
  assert(c[2].method === 'PATCH' && c[2].status === 200 && c[2].auth !== `Bearer ${forged}`, `third: ${show(c)}`);
  console.log(`interceptor: ${step}: ok (${show(c)})`);

  step = '401 with a dead refresh token → session over → /login';
  forged = await forge(true);
  from = calls.length;
  await tid('profile-first_name').fill('Never saved');
  await tid('profile-save').click();
  await tid('login-page').waitFor({ timeout: WAIT });
  await until(async () => new URL(page.url()).pathname === '/login', 'the path /login');
  c = await recorded(from, 2);
  assert(c.length === 2 && c[0].status === 401 && c[1].path === '/api/auth/token/refresh/' && c[1].status === 401,
    `expected PATCH 401, refresh 401; got: ${show(c)}`);
  // The client leaves a tombstone (not a session) so that other tabs see the expiry too.
  const stored = await page.evaluate(() => localStorage.getItem('gatehouse.session'));
  assert(!stored || !stored.includes('"access"'), `a session is still stored: ${stored}`);
  console.log(`interceptor: ${step}: ok (${show(c)})`);

  assert(pageErrors.length === 0, `uncaught page errors: ${pageErrors.join(' | ')}`);
  console.log('interceptor: PASS');
  await browser.close();
} catch (e) {
  console.error(`interceptor: FAILED at "${step}": ${e.message}`);
  for (const x of calls.slice(-10)) console.error(`  ${x.method} ${x.path} ${x.status}`);
  await browser.close();
  process.exit(1);
}
