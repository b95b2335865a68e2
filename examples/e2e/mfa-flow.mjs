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
import { join } from 'node:path';
import { addVirtualAuthenticator } from '../../client-wasm/e2e/webauthn.mjs';
import { SHOTS, WAIT, appUrl, assert, enrolTotp, openPage, passwordThenSecondStep, register, runSteps, stamp, testIds, totp } from './lib.mjs';

const base = appUrl('mfa-flow.mjs').replace('//127.0.0.1:', '//localhost:');
const browser = await openPage();
const { ctx, page } = browser;
const { credentials } = await addVirtualAuthenticator(ctx, page);
const { tid, shown } = testIds(page);

const email = `mfa-${stamp}@example.com`;
const password = `Copper-Lagoon-${stamp}-63`;
const relogin = () => passwordThenSecondStep(page, email, password);

await runSteps('mfa-flow[react]', 'react-mfa', browser, async (step) => {
  let secret, codes, now;
  await step('register → set up the authenticator app (QR, confirm) → 10 recovery codes', async () => {
    await register(page, base, { email, username: `mfa_${stamp}`, password });
    ({ secret, now, codes } = await enrolTotp(page));
    assert(codes.length === 10, `10 recovery codes, got ${codes.length}`);
  });

  await step('add a passkey', async () => {
    await tid('passkey-add').click();
    await shown('passkey-item');
    const creds = await credentials();
    assert(creds.length === 1 && creds[0].isResidentCredential, 'one discoverable credential on the authenticator');
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
});
