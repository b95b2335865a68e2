// The React example's second factors in headless Chromium, against the real
// server: TOTP enrolment (the QR code, the code computed here as an
// authenticator app would, the recovery codes shown once) and passkeys made
// and used through the DevTools virtual authenticator (CDP WebAuthn:
// CTAP2, internal, resident keys, user verification). Usage:
//
//   node examples/e2e/mfa-flow.mjs <app-base-url>
//
// The app is opened as http://localhost:PORT (WebAuthn refuses an IP address
// as the rp id; the examples' API client lists localhost origins first,
// scripts/lib.sh examples_client). Steps:
//  1. register → Security: set up the app (QR shown), confirm → 10 recovery codes.
//  2. add a passkey.
//  3. log out; the password → the second step; a code from the app → /profile.
//  4. log out; the password → the second step; the passkey → /profile.
//  5. log out; "Sign in with a passkey" (no password) → /profile.
//  6. log out; the password → a recovery code → /profile; delete the passkey.
// Saves screenshots/react-mfa.png (react-mfa-failure.png on failure).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { totp } from '../../client-wasm/e2e/totp.mjs';

const arg = (process.argv[2] || '').replace(/\/+$/, '');
if (!arg) {
  console.error('usage: node mfa-flow.mjs <app-base-url>');
  process.exit(2);
}
const base = arg.replace('//127.0.0.1:', '//localhost:');
const SHOTS = process.env.SCREENSHOT_DIR || join(dirname(fileURLToPath(import.meta.url)), 'screenshots');
const WAIT = Number(process.env.FLOW_TIMEOUT_MS || 15000);
mkdirSync(SHOTS, { recursive: true });

const assert = (ok, msg) => { if (!ok) throw new Error(msg); };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const ctx = await browser.newContext();
const page = await ctx.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
const cdp = await ctx.newCDPSession(page);
await cdp.send('WebAuthn.enable');
const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
  options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
});
const tid = (id) => page.getByTestId(id).first();
const shown = (id) => tid(id).waitFor({ state: 'visible', timeout: WAIT });

const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const email = `mfa-${stamp}@example.com`;
const password = `Copper-Lagoon-${stamp}-63`;
let current = 'start';
const t0 = Date.now();
async function step(label, fn) {
  current = label;
  const t = Date.now();
  await fn();
  console.log(`mfa-flow[react]: ${label} ok (${((Date.now() - t) / 1000).toFixed(1)} s)`);
}
async function relogin() {
  await tid('logout').click();
  await shown('login-page');
  await tid('login-email').fill(email);
  await tid('login-password').fill(password);
  await tid('login-submit').click();
  await shown('mfa-page');
}

try {
  let secret, codes, now;
  await step('register → set up the authenticator app (QR, confirm) → 10 recovery codes', async () => {
    await page.goto(base + '/register');
    await shown('register-page');
    await tid('register-email').fill(email);
    await tid('register-username').fill(`mfa_${stamp}`);
    await tid('register-password').fill(password);
    await tid('register-password2').fill(password);
    await tid('register-submit').click();
    await shown('profile-page');
    await tid('totp-enroll').click();
    await shown('totp-qr');
    assert(await tid('totp-qr').evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR image renders');
    secret = (await tid('totp-secret').textContent()).trim();
    now = Date.now();
    await tid('totp-code').fill(totp(secret, 0, now));
    await tid('totp-confirm').click();
    await shown('recovery-codes');
    codes = (await page.getByTestId('recovery-codes').locator('li').allTextContents()).map((c) => c.trim());
    assert(codes.length === 10, `10 recovery codes, got ${codes.length}`);
    await tid('recovery-done').click();
    await shown('totp-on');
  });

  await step('add a passkey', async () => {
    await tid('passkey-add').click();
    await shown('passkey-item');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert(credentials.length === 1 && credentials[0].isResidentCredential, 'one discoverable credential on the authenticator');
    await page.screenshot({ path: join(SHOTS, 'react-mfa.png'), fullPage: true });
  });

  await step('the password, then a code from the app', async () => {
    await relogin();
    await tid('mfa-code').fill(totp(secret, 1, now)); // the next step's: the enrolment spent this one
    await tid('mfa-submit').click();
    await shown('profile-page');
  });

  await step('the password, then the passkey', async () => {
    await relogin();
    await tid('mfa-passkey').click();
    await shown('profile-page');
  });

  await step('passwordless: sign in with the passkey', async () => {
    await tid('logout').click();
    await shown('login-page');
    await tid('login-passkey').click();
    await shown('profile-page');
  });

  await step('the password, then a recovery code; delete the passkey', async () => {
    await relogin();
    await tid('mfa-code').fill(codes[0]);
    await tid('mfa-submit').click();
    await shown('profile-page');
    await shown('passkey-item');
    await tid('passkey-delete').click();
    await tid('passkey-item').waitFor({ state: 'detached', timeout: WAIT });
    await shown('totp-on');
  });

  assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
  console.log(`mfa-flow[react]: ok in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await browser.close();
} catch (e) {
  console.error(`mfa-flow[react]: FAILED at "${current}": ${e.message}`);
  await page.screenshot({ path: join(SHOTS, 'react-mfa-failure.png'), fullPage: true }).catch(() => {});
  await browser.close();
  process.exit(1);
}
