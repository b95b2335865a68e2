// Two-factor sign-in and enrolment in the dashboard (headless Chromium against
// the native host of scripts/test-admin-ui.sh). A fresh admin keeps the shared
// accounts free of factors; the TOTP codes are computed here, as an
// authenticator app would (RFC 6238).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, cspProblems, env, freshAdmin, pages, shot, signIn } from './helpers.mjs';
import { totp } from '../../client-wasm/e2e/totp.mjs';

const openPage = pages();

describe('two-factor', () => {
  it('an admin enrols from the banner, then signs in with a code and with a recovery code', async () => {
    const who = await freshAdmin('mfa', 'Saffron-Harbour-6620');

    // No factor yet: signed in, with the banner the login answer asked for.
    const page = await openPage();
    await signIn(page, who);
    await page.locator('.sidebar').waitFor();
    const banner = page.locator('#mfa-banner');
    await banner.waitFor();
    await page.click('#mfa-enrol');
    const qr = page.locator('dialog img.mfa-qr');
    await qr.waitFor();
    assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml;base64,/);
    // Attached is not decoded yet: wait until the image has rendered.
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await qr.elementHandle());
    const secret = (await page.locator('#totp-secret').textContent()).trim();
    const now = Date.now();
    await page.fill('input[name=totp_code]', totp(secret, 0, now));
    await shot(page, 'mfa-enrol');
    await page.click('dialog button[type=submit]');
    // The codes appear once the confirmation has answered: wait for the tenth.
    await page.locator('#recovery-codes li').nth(9).waitFor();
    const codes = await page.locator('#recovery-codes li').allTextContents();
    assert.equal(codes.length, 10);
    await shot(page, 'mfa-recovery-codes');
    await page.click('#mfa-done');
    await banner.waitFor({ state: 'detached' });

    // Signing in now takes the code.
    await page.click('#sign-out');
    await signIn(page, who);
    const code = page.locator('input[name=mfa_code]');
    await code.waitFor();
    await code.fill(totp(secret, 7, now));
    await page.click('button[type=submit]');
    const err = page.locator('.form-error');
    await err.waitFor({ state: 'visible' });
    assert.match(await err.textContent(), /code is not right/);
    await shot(page, 'mfa-sign-in');
    await code.fill(totp(secret, 1, now)); // the next step's: the enrolment spent this one
    await page.click('button[type=submit]');
    await page.locator('.sidebar').waitFor();
    assert.equal(await page.locator('#mfa-banner').count(), 0, 'no banner with a factor');

    // A recovery code instead.
    await page.click('#sign-out');
    await signIn(page, who);
    await page.locator('#use-recovery').click();
    await code.fill(codes[0].trim());
    await page.click('button[type=submit]');
    await page.locator('.sidebar').waitFor();
    assert.deepEqual(cspProblems(page), []);
    await page.context().close();

    // The API agrees: a password alone is not a sign-in any more.
    const again = await call(env.dashboard, 'POST', '/api/auth/token/', who);
    assert.equal(again.status, 401);
    assert.equal(again.body.code, 'mfa_required');
  });
});
