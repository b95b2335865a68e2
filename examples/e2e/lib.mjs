// What the React example's own browser checks (reset-flow, mfa-flow,
// social-flow) share: the app's URL from the command line, headless Chromium
// with one page, the data-testid helpers, and the run of numbered steps with
// their seconds, a screenshot and exit 1 when one fails.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { totp } from '../../client-wasm/e2e/totp.mjs';
import { launchWithRetry } from '../../client-wasm/e2e/launch.mjs';

export { totp };

export const SHOTS = process.env.SCREENSHOT_DIR || join(dirname(fileURLToPath(import.meta.url)), 'screenshots');
/** How long each condition may take (a loaded CI machine is slow, never this slow). */
export const WAIT = Number(process.env.FLOW_TIMEOUT_MS || 15000);
mkdirSync(SHOTS, { recursive: true });

export const assert = (ok, msg) => { if (!ok) throw new Error(msg); };

/** A unique tag for this run's accounts. */
export const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

/** The app's base URL, the script's one argument (exits 2 without it). */
export function appUrl(script) {
  const base = (process.argv[2] || '').replace(/\/+$/, '');
  if (!base) {
    console.error(`usage: node ${script} <app-base-url>`);
    process.exit(2);
  }
  return base;
}

/** Chromium, one context and one page; `pageErrors` collects its uncaught errors. */
export async function openPage() {
  const browser = await launchWithRetry(chromium, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  return { browser, ctx, page, pageErrors };
}

/** The data-testid helpers: the first match, waiting until it is visible, its text. */
export function testIds(page) {
  const tid = (id) => page.getByTestId(id).first();
  const shown = (id) => tid(id).waitFor({ state: 'visible', timeout: WAIT });
  const text = async (id) => (await tid(id).textContent()).trim();
  return { tid, shown, text };
}

/**
 * Runs `body(step)` as the check `name` (e.g. "mfa-flow[react]") in the
 * browser of `openPage()`: each `step(label, fn)` prints its seconds; at the
 * end no page error may have happened. On a failure: which step, a screenshot
 * `<shot>-failure.png`, exit 1.
 */
export async function runSteps(name, shot, { browser, page, pageErrors }, body) {
  let current = 'start';
  const t0 = Date.now();
  const secs = (t) => ((Date.now() - t) / 1000).toFixed(1);
  const step = async (label, fn) => {
    current = label;
    const t = Date.now();
    await fn();
    console.log(`${name}: ${label} ok (${secs(t)} s)`);
  };
  try {
    await body(step);
    assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
    console.log(`${name}: ok in ${secs(t0)} s`);
    await browser.close();
  } catch (e) {
    console.error(`${name}: FAILED at "${current}": ${e.message}`);
    await page.screenshot({ path: join(SHOTS, `${shot}-failure.png`), fullPage: true }).catch(() => {});
    await browser.close();
    process.exit(1);
  }
}

/** Registers on the app's /register page; ends on /profile. */
export async function register(page, base, { email, username, password }) {
  const { tid, shown } = testIds(page);
  await page.goto(base + '/register');
  await shown('register-page');
  await tid('register-email').fill(email);
  await tid('register-username').fill(username);
  await tid('register-password').fill(password);
  await tid('register-password2').fill(password);
  await tid('register-submit').click();
  await shown('profile-page');
}

/** Fills the login page's form and submits it. */
export async function logIn(page, email, password) {
  const { tid } = testIds(page);
  await tid('login-email').fill(email);
  await tid('login-password').fill(password);
  await tid('login-submit').click();
}

/** Sign out, then the password on the login page: the second step is asked for. */
export async function passwordThenSecondStep(page, email, password) {
  const { tid, shown } = testIds(page);
  await tid('logout').click();
  await shown('login-page');
  await logIn(page, email, password);
  await shown('mfa-page');
}

/** On the profile page: sets up an authenticator app (the QR code renders)
 *  with the code of this 30 s step, computed here as the app would; the
 *  recovery codes are shown once. Returns {secret, now, codes}: the enrolment
 *  spends this step's code, so the next one is `totp(secret, 1, now)`. */
export async function enrolTotp(page) {
  const { tid, shown } = testIds(page);
  await tid('totp-enroll').click();
  await shown('totp-qr');
  // Visible is not decoded yet: wait until the image has rendered.
  await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await tid('totp-qr').elementHandle(), { timeout: WAIT });
  const secret = (await tid('totp-secret').textContent()).trim();
  const now = Date.now();
  await tid('totp-code').fill(totp(secret, 0, now));
  await tid('totp-confirm').click();
  await shown('recovery-codes');
  const codes = (await page.getByTestId('recovery-codes').locator('li').allTextContents()).map((c) => c.trim());
  await tid('recovery-done').click();
  await shown('totp-on');
  return { secret, now, codes };
}
