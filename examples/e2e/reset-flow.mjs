// The React example's email flows in headless Chromium, with the REAL mail:
// the server sends it through a real SMTP server (scripts/test-examples.sh runs
// under scripts/with-smtp.sh) and this script reads it from the Maildir
// ($GATEHOUSE_TEST_MAILDIR) and opens its link in the page. Usage:
//
//   node examples/e2e/reset-flow.mjs <app-base-url>
//
// Needs the app's API client with `reset_url` = <app-base-url>/reset (scripts/lib.sh
// examples_client). Steps:
//  1. register → /profile shows the "unverified" banner; "Send again" mails a
//     new verification link; its token on /verify → confirmed; the banner is gone.
//  2. log out → "Forgot password?" → the request's answer is shown.
//  3. the reset mail's link is the app's /reset page → open it → a weak password
//     shows the server's field error → a good one → done.
//  4. the old password is refused on /login; the new one signs in; the spent
//     link is refused.
//  5. sign in with a code: /code → the mailed six-digit code → /profile.
// Saves screenshots/react-reset.png (react-reset-failure.png on failure).
import { join } from 'node:path';
import { linkOf, tokenOf, waitForMail } from '../../client-wasm/e2e/mailbox.mjs';
import { SHOTS, appUrl, assert, logIn, openPage, register, runSteps, stamp, testIds } from './lib.mjs';

const base = appUrl('reset-flow.mjs');
if (!process.env.GATEHOUSE_TEST_MAILDIR) {
  console.error('reset-flow: GATEHOUSE_TEST_MAILDIR is unset (run under scripts/with-smtp.sh)');
  process.exit(1);
}
const browser = await openPage();
const { page } = browser;
const { tid, shown, text } = testIds(page);
// Log out, follow the login page's link `nav` to the `form` page, submit
// the address: the one answer is shown.
async function askByMail(nav, form) {
  await tid('logout').click();
  await shown('login-page');
  await tid(nav).click();
  await shown(`${form}-page`);
  await tid(`${form}-email`).fill(email);
  await tid(`${form}-submit`).click();
  await shown(`${form}-sent`);
}
// The /reset page's form, both fields `password`, submitted.
async function submitReset(password) {
  await tid('reset-password').fill(password);
  await tid('reset-password2').fill(password);
  await tid('reset-submit').click();
}

const email = `reset-${stamp}@example.com`;
const oldPassword = `Violet-Harbor-${stamp}-41`;
const newPassword = `Amber-Quarry-${stamp}-77`;

await runSteps('reset-flow[react]', 'react-reset', browser, async (step) => {
  await step('register shows the unverified banner', async () => {
    await register(page, base, { email, username: `reset_${stamp}`, password: oldPassword });
    await shown('verify-banner');
  });

  await step('"Send again" → the new verification mail → /verify confirms; the banner is gone', async () => {
    await waitForMail(email, 1, { subject: /confirm your email/i }); // register's
    await tid('verify-resend').click();
    await shown('verify-resent');
    const mail = await waitForMail(email, 2, { subject: /confirm your email/i });
    // Verification links point at Gatehouse's own page; the app's /verify takes the same token.
    await page.goto(`${base}/verify?token=${encodeURIComponent(tokenOf(mail))}`);
    await shown('verify-page');
    await tid('verify-submit').click();
    await shown('verify-done');
    await page.goto(base + '/profile');
    await shown('profile-page');
    await shown('profile-email');
    assert(!(await tid('verify-banner').isVisible()), 'the banner is still shown after verification');
  });

  await step('log out → "Forgot password?" → the request is answered', async () => {
    await askByMail('nav-forgot', 'forgot');
    assert(/if an account with this email exists/i.test(await text('forgot-sent')), 'forgot-sent shows the server answer');
  });

  let link;
  await step('the real reset mail links to the app\'s /reset page', async () => {
    const t = Date.now();
    const mail = await waitForMail(email, 1, { subject: /reset your password/i });
    link = linkOf(mail);
    assert(link && link.startsWith(`${base}/reset?token=`), `the mail's link is the app's reset page, got ${link}`);
    console.log(`reset-flow[react]:   mail arrived ${Date.now() - t} ms after the page showed the answer`);
  });

  await step('open the link; a weak password shows the server\'s error; a good one resets', async () => {
    await page.goto(link);
    await shown('reset-page');
    await submitReset('12345678');
    await shown('error-password');
    await submitReset(newPassword);
    await shown('reset-done');
  });

  await step('the old password is refused; the new one signs in', async () => {
    await tid('nav-login').click();
    await shown('login-page');
    await logIn(page, email, oldPassword);
    await shown('login-error');
    await tid('login-password').fill(newPassword);
    await tid('login-submit').click();
    await shown('profile-page');
    await page.screenshot({ path: join(SHOTS, 'react-reset.png'), fullPage: true });
  });

  await step('the spent link is refused', async () => {
    await page.goto(link);
    await shown('reset-page');
    await submitReset(newPassword);
    await shown('reset-error');
    assert(/invalid or has expired/i.test(await text('reset-error')), 'reset-error shows invalid_token\'s message');
  });

  await step('sign in with a mailed code', async () => {
    await page.goto(base + '/profile');
    await shown('profile-page');
    await askByMail('nav-code', 'code');
    const mail = await waitForMail(email, 1, { subject: /sign-in code/i });
    const code = /sign-in code is (\d{6})/.exec(mail.text)?.[1];
    assert(code, `a six-digit code in the mail: ${mail.text}`);
    // The client's signin_url: the mail links to /code?email=…&code=…, which
    // fills the form; the user presses "Sign in".
    const codeLink = linkOf(mail);
    assert(codeLink && codeLink.startsWith(`${base}/code?email=`), `the mail links to the app's /code page, got ${codeLink}`);
    await page.goto(codeLink);
    await shown('code-page');
    assert((await tid('code-code').inputValue()) === code, 'the link fills the code in');
    await tid('code-submit').click();
    await shown('profile-page');
  });
});
