// The browser flow every frontend example must pass, against a running app
// that talks to a running `gatehouse` started with a short access lifetime
// (`--access-ttl 3`). Usage:
//
//   node examples/e2e/flow.mjs <app-base-url> <name>
//
// The app follows the data-testid contract in README.md. The flow:
//  1. / while signed out lands on /login; the nav link leads to /register.
//  2. A bad registration (invalid email, common numeric password) shows the
//     server's field errors under their fields (a 400 from the server, not
//     browser validation).
//  3. A good registration lands on /profile showing the new user.
//  4. Waits until the access token issued at sign-in is dead for the server
//     (a clock condition on the token's own `exp` plus the server's 5 s
//     clock-skew tolerance, not a fixed sleep).
//  5. Edits the first name and saves: the PATCH/PUT must succeed with a token
//     other than the expired one, at least one refresh must have happened and
//     no refresh may have been rejected (single flight).
//  6. After a reload the saved value is shown (the session survives a reload).
//  7. Logout lands on /login; /profile then redirects to /login and no
//     profile request succeeds any more.
//  8. A wrong password shows the server's error; the right one signs in again
//     and shows the saved profile.
// Saves screenshots/<name>-profile.png (and <name>-failure.png on failure).
// Exits 0 on success, 1 with the step that failed.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchWithRetry } from '../../client-wasm/e2e/launch.mjs';

const [baseArg, name] = process.argv.slice(2);
if (!baseArg || !name) {
  console.error('usage: node flow.mjs <app-base-url> <name>');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const SHOTS = process.env.SCREENSHOT_DIR || join(dirname(fileURLToPath(import.meta.url)), 'screenshots');
const WAIT = Number(process.env.FLOW_TIMEOUT_MS || 15000);
// Seconds past `exp` that the server still accepts an access token (core/src/token.rs CLOCK_SKEW_SECS).
const SKEW = Number(process.env.GATEHOUSE_CLOCK_SKEW ?? 5);
mkdirSync(SHOTS, { recursive: true });

const t0 = Date.now();
const secs = (t) => ((Date.now() - t) / 1000).toFixed(1);
let current = 'launch';

// Polls `cond` (sync or async) until it returns a truthy value, or throws after `ms`.
async function until(cond, what, ms = WAIT) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await cond();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}` + (last instanceof Error ? ` (${last.message})` : ''));
    await new Promise((r) => setTimeout(r, 50));
  }
}

function claims(jwt) {
  const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(Buffer.from(part, 'base64').toString('utf8'));
}

function assert(ok, msg) {
  if (!ok) throw new Error(msg);
}

const browser = await launchWithRetry(chromium, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext();
const page = await context.newPage();

// Every API call the page makes, in the order the answers came: method, path
// (/api/v1/ folded into /api/), status, and a moment later (`ready`) the
// Authorization header and, for token-issuing calls, the access token returned.
const calls = [];
const pageErrors = [];
const consoleLines = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
page.on('response', (r) => {
  const req = r.request();
  const u = new URL(r.url());
  if (!u.pathname.startsWith('/api/') || req.method() === 'OPTIONS') return;
  const call = { method: req.method(), path: u.pathname.replace(/^\/api\/v\d+\//, '/api/'), status: r.status(), auth: null, access: null, at: Date.now() };
  calls.push(call);
  call.ready = (async () => {
    call.auth = (await req.headerValue('authorization')) || null;
    if (call.status < 300 && /\/api\/auth\/(register|token)\/$/.test(call.path)) {
      call.access = await r.json().then((b) => b.access || null, () => null);
    }
  })().catch(() => {}); // the browser closed meanwhile
});
const callsTo = (path, from = 0) => calls.slice(from).filter((c) => c.path === path);
// The page may show an outcome before this process has read the headers and
// bodies of the answers that led to it.
const recorded = () => Promise.all(calls.map((c) => c.ready));

const tid = (id) => page.getByTestId(id);
const shown = (id, ms = WAIT) => tid(id).first().waitFor({ state: 'visible', timeout: ms });
// An input's value, or an element's text: apps may show read-only fields either way.
const valueOf = (id) => tid(id).first().evaluate((el) =>
  ('value' in el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) ? el.value : el.textContent).trim());
const path = () => new URL(page.url()).pathname;
const onPage = async (id, route) => {
  await shown(id);
  await until(() => path() === route, `path ${route} (at ${path()})`);
};

async function step(label, fn) {
  current = label;
  const t = Date.now();
  await fn();
  console.log(`flow[${name}]: ${label} ok (${secs(t)} s)`);
}

const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const email = `e2e-${name}-${stamp}@example.com`;
const username = `e2e_${name}_${stamp}`;
// Nothing of the username in it: the server rejects passwords too similar to the user's attributes.
const password = `correct-Horse-${Math.random().toString(36).slice(2, 8)}-battery-staple`;
const firstName = `Ada${stamp}`;
let firstAccess;

try {
  await step('signed out: / lands on /login, nav to /register', async () => {
    await page.goto(base + '/');
    await onPage('login-page', '/login');
    await tid('nav-register').first().click();
    await onPage('register-page', '/register');
  });

  await step('bad registration shows the server field errors', async () => {
    const before = calls.length;
    await tid('register-email').fill('not-an-email');
    await tid('register-username').fill(username);
    await tid('register-password').fill('12345678');
    await tid('register-password2').fill('12345678');
    await tid('register-submit').click();
    await until(() => callsTo('/api/auth/register/', before).some((c) => c.status === 400), 'a 400 from /api/auth/register/');
    await shown('error-email');
    await shown('error-password');
    const e = await valueOf('error-email');
    const p = await valueOf('error-password');
    assert(/valid email/i.test(e), `error-email should show the server's message, got ${JSON.stringify(e)}`);
    assert(/too common/i.test(p) && /numeric/i.test(p), `error-password should show every server message, got ${JSON.stringify(p)}`);
    await onPage('register-page', '/register');
  });

  await step('register lands on /profile showing the user', async () => {
    await tid('register-email').fill(email);
    await tid('register-password').fill(password);
    await tid('register-password2').fill(password);
    await tid('register-submit').click();
    await onPage('profile-page', '/profile');
    await until(async () => (await valueOf('profile-email')) === email, `profile-email = ${email}`);
    await until(async () => (await valueOf('profile-username')) === username, `profile-username = ${username}`);
    await recorded();
    const issued = calls.filter((c) => c.access);
    assert(issued.length > 0, 'no access token seen from /api/auth/register/ or /api/auth/token/');
    firstAccess = issued[issued.length - 1].access;
  });

  await step('wait until the sign-in access token has expired', async () => {
    const { exp, iat } = claims(firstAccess);
    assert(exp - iat <= 30, `the server should run with a short --access-ttl (token lifetime ${exp - iat} s)`);
    // The server accepts a token while whole-second now <= exp + its clock-skew
    // tolerance (core's CLOCK_SKEW_SECS, 5 s): wait until it must reject it.
    const dead = exp + SKEW + 1 + 0.1;
    await until(() => Date.now() / 1000 > dead, `the clock to pass exp=${exp} + ${SKEW} s skew`, (dead - iat + 5) * 1000);
  });

  await step('edit the profile after expiry (transparent refresh)', async () => {
    const before = calls.length;
    assert(!(await tid('profile-saved').first().isVisible()), 'profile-saved is shown before any save');
    await tid('profile-first_name').fill(firstName);
    await tid('profile-save').click();
    await shown('profile-saved');
    const save = await until(() => calls.slice(before).find((c) => /^(PATCH|PUT)$/.test(c.method) && c.path === '/api/auth/profile/' && c.status === 200),
      'a 200 PATCH/PUT /api/auth/profile/');
    await recorded();
    assert(save.auth && save.auth !== `Bearer ${firstAccess}`, 'the profile save used the expired token');
    const refreshes = callsTo('/api/auth/token/refresh/');
    assert(refreshes.some((c) => c.status === 200), 'no successful refresh before the save');
    const rejected = refreshes.filter((c) => c.status !== 200);
    assert(rejected.length === 0, `rejected refreshes: ${rejected.map((c) => c.status).join(',')}`);
    console.log(`flow[${name}]:   refreshes so far: ${refreshes.length}`);
  });

  await step('reload keeps the session and shows the saved value', async () => {
    await page.reload();
    await onPage('profile-page', '/profile');
    await until(async () => (await valueOf('profile-first_name')) === firstName, `profile-first_name = ${firstName}`);
    await page.screenshot({ path: join(SHOTS, `${name}-profile.png`), fullPage: true });
  });

  let loggedOutAt;
  await step('logout lands on /login', async () => {
    const before = calls.length;
    await tid('logout').first().click();
    await onPage('login-page', '/login');
    await until(() => callsTo('/api/auth/logout/', before).some((c) => c.status === 200), 'a 200 from /api/auth/logout/');
    loggedOutAt = calls.length;
  });

  await step('/profile redirects to /login when signed out', async () => {
    await page.goto(base + '/profile');
    await onPage('login-page', '/login');
    const leaked = callsTo('/api/auth/profile/', loggedOutAt).filter((c) => c.status === 200);
    assert(leaked.length === 0, 'a profile request succeeded after logout');
  });

  await step('login: wrong password shows the error, right one signs in', async () => {
    const before = calls.length;
    await tid('login-email').fill(email);
    await tid('login-password').fill(password + 'x');
    await tid('login-submit').click();
    await until(() => callsTo('/api/auth/token/', before).some((c) => c.status === 401), 'a 401 from /api/auth/token/');
    await shown('login-error');
    assert((await valueOf('login-error')).length > 0, 'login-error is empty');
    await tid('login-password').fill(password);
    await tid('login-submit').click();
    await onPage('profile-page', '/profile');
    await until(async () => (await valueOf('profile-first_name')) === firstName, `profile-first_name = ${firstName}`);
  });

  assert(pageErrors.length === 0, `uncaught page errors: ${pageErrors.join(' | ')}`);
  const refreshes = callsTo('/api/auth/token/refresh/');
  console.log(`flow[${name}]: PASS in ${secs(t0)} s (${calls.length} API calls, ${refreshes.length} refreshes, 0 rejected)`);
  await browser.close();
} catch (e) {
  console.error(`flow[${name}]: FAILED at "${current}": ${e.message}`);
  console.error(`flow[${name}]: at ${page.url()}`);
  for (const c of calls.slice(-15)) console.error(`  ${c.method} ${c.path} ${c.status}`);
  for (const l of consoleLines.slice(-10)) console.error(`  console ${l}`);
  for (const l of pageErrors) console.error(`  pageerror ${l}`);
  await page.screenshot({ path: join(SHOTS, `${name}-failure.png`), fullPage: true }).catch(() => {});
  await browser.close();
  process.exit(1);
}
