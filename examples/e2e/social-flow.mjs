// The React example's social sign-in in headless Chromium, through a real
// OpenID Provider (npm oidc-provider, scripts/with-oidc.sh) and the real
// server: the login page's "Sign in with <provider>" button → the provider's
// own login form → Gatehouse's callback → the app's /auth/return page, which
// exchanges the one-time code (completeSignIn) → /profile. Usage:
//
//   node examples/e2e/social-flow.mjs <app-base-url>
//
// Needs GATEHOUSE_SOCIAL_PROVIDER (the provider's id, registered for the
// app's API client with <app-base-url>/auth/return as a redirect URI:
// scripts/test-examples.sh does it). Steps:
//  1. signed out, the button → the provider's login form (a new address) →
//     back on /profile, signed in as that address: a new account; the URL
//     the app came back to carried a code, which the app removed.
//  2. log out; the button again: the provider remembers its login and sends
//     the browser straight back → the same account (the identity is linked).
//  3. set up an authenticator app; log out; the button → the return page
//     asks for the second step (mfa_required) → a code → /profile.
//  4. the return URL with the spent code, opened again → the app shows the
//     refusal (this tab started no sign-in: invalid_state), no session.
// Saves screenshots/react-social.png (react-social-failure.png on failure).
import { join } from 'node:path';
import { SHOTS, WAIT, appUrl, assert, enrolTotp, openPage, runSteps, stamp, testIds, totp } from './lib.mjs';

const base = appUrl('social-flow.mjs');
const provider = process.env.GATEHOUSE_SOCIAL_PROVIDER;
if (!provider) {
  console.error('usage: GATEHOUSE_SOCIAL_PROVIDER=ID node social-flow.mjs <app-base-url>');
  process.exit(2);
}
const browser = await openPage();
const { page } = browser;
// Every navigation to the return page, as the browser made it (with the code).
const returns = [];
page.on('request', (r) => { if (r.isNavigationRequest() && new URL(r.url()).pathname === '/auth/return') returns.push(r.url()); });
const { tid, shown, text } = testIds(page);
const email = `social-${stamp}@example.com`;

/** The button, then (`form`) the provider's own development login form: any
 *  password signs in as the account named by the login. Without `form` the
 *  provider remembers its session and sends the browser straight back. */
async function viaProvider(form) {
  await shown('login-page');
  await tid(`login-social-${provider}`).click();
  if (form) {
    const login = page.locator('input[name="login"]');
    await login.waitFor({ state: 'visible', timeout: WAIT });
    assert(!page.url().startsWith(base), `on the provider's page, not the app's: ${page.url()}`);
    await login.fill(email);
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').first().click();
  }
  await shown('profile-page');
  assert((await text('profile-email')) === email, `signed in as ${email}`);
}

await runSteps('social-flow[react]', 'react-social', browser, async (step) => {
  await step(`"Sign in with ${provider}" → the provider's login form → /profile (a new account)`, async () => {
    await page.goto(base + '/login');
    await viaProvider(true);
    assert(returns.length === 1, `came back once to /auth/return: ${returns.join(', ')}`);
    const back = new URL(returns[0]);
    assert(/^[A-Za-z0-9_-]{20,}$/.test(back.searchParams.get('code') || ''), `a one-time code on the return: ${returns[0]}`);
    assert(back.searchParams.get('state'), 'the frontend state on the return');
    assert(!page.url().includes('code='), `the code is gone from the URL: ${page.url()}`);
    const stored = await page.evaluate(() => sessionStorage.getItem('gatehouse.social'));
    assert(stored === null, 'the verifier is used once');
    await page.screenshot({ path: join(SHOTS, 'react-social.png'), fullPage: true });
  });

  await step('log out; the button again (the provider remembers its login) → the same account', async () => {
    await tid('logout').click();
    await viaProvider(false);
    assert(returns.length === 2, 'came back a second time');
  });

  await step('with an authenticator app, the provider\'s sign-in asks for the second step', async () => {
    const { secret, now } = await enrolTotp(page);
    await tid('logout').click();
    await shown('login-page');
    await tid(`login-social-${provider}`).click();
    // completeSignIn rejected with mfa_required: the return page shows the second step.
    await shown('mfa-page');
    assert(new URL(page.url()).pathname === '/auth/return' && !page.url().includes('code='), `on the clean return page: ${page.url()}`);
    await tid('mfa-code').fill(totp(secret, 1, now)); // the next step's: the enrolment spent this one
    await tid('mfa-submit').click();
    await shown('profile-page');
    assert((await text('profile-email')) === email, `signed in as ${email}`);
  });

  await step('the spent return URL opened again → refused, no session', async () => {
    await tid('logout').click();
    await shown('login-page');
    await page.goto(returns[1]);
    await shown('social-error');
    const session = await page.evaluate(() => localStorage.getItem('gatehouse.session'));
    assert(session === null, 'no session stored');
    await tid('nav-login').click();
    await shown('login-page');
  });

});
