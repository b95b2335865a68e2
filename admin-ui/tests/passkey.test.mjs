// Passkeys in the dashboard (headless Chromium with the DevTools virtual
// authenticator against the native host of scripts/test-admin-ui.sh): a new
// admin adds a passkey on the account page, signs in with the password and the
// passkey as the second step, then without a password; the users view shows the
// factor. The page is opened at http://localhost:PORT (GATEHOUSE_PASSKEY_URL):
// WebAuthn refuses an IP address as the rp id, and the dashboard client's first
// allowed origin (the rp id's host) is that one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addVirtualAuthenticator } from '../../client-wasm/e2e/webauthn.mjs';
import { call, cspProblems, env, freshAdmin, pages, shot } from './helpers.mjs';

const openPage = pages();
const base = process.env.GATEHOUSE_PASSKEY_URL || env.base.replace('127.0.0.1', 'localhost');

async function signInHere(page, who) {
  await page.goto(`${base}/admin/`);
  await page.fill('input[name=email]', who.email);
  await page.fill('input[name=password]', who.password);
  await page.click('button[type=submit]');
}

describe('passkeys', () => {
  it('an admin adds a passkey, then signs in with it as the second step and without a password', async () => {
    const who = await freshAdmin('pk', 'Cobalt-Meadow-4471');
    const n = who.email.split('@')[0];

    const page = await openPage();
    const { credentials } = await addVirtualAuthenticator(page.context(), page);
    await signInHere(page, who);
    await page.locator('#mfa-banner').waitFor();
    // The banner's passkey link opens the account page.
    await page.click('#mfa-passkey');
    await page.locator('#account-passkeys .empty').waitFor();
    await page.fill('input[name=passkey_name]', 'Virtual key');
    await page.click('#passkey-add');
    await page.locator('#passkeys-table tr[data-passkey]').waitFor();
    assert.equal(await page.locator('#passkeys-table td.cell-main').textContent(), 'Virtual key');
    assert.equal((await credentials()).length, 1);
    await page.locator('#mfa-banner').waitFor({ state: 'detached' });
    await shot(page, 'account-passkeys');

    // The users view lists the factor.
    await page.goto(`${base}/admin/#/users`);
    await page.fill('input[type=search]', who.email);
    const row = page.locator(`#users-table tr[data-email="${who.email}"]`);
    await row.waitFor();
    await page.waitForFunction((e) => document.querySelectorAll('#users-table tbody tr').length === 1 && document.querySelector(`#users-table tr[data-email="${e}"]`), who.email);
    assert.equal((await row.locator('.mfa-kinds').textContent()).trim(), '2FA: passkey');

    // Password, then the passkey as the second step (its only factor).
    await page.click('#sign-out');
    await signInHere(page, who);
    await page.locator('#use-passkey').click();
    await page.locator('.sidebar').waitFor();
    assert.equal(await page.locator('#mfa-banner').count(), 0, 'no banner with a factor');

    // Passwordless.
    await page.click('#sign-out');
    await page.locator('#passkey-sign-in').click();
    await page.locator('.sidebar').waitFor();
    await page.locator('.whoami-name', { hasText: n }).waitFor();

    // Deleted: the password alone signs in again, and the authenticator's copy is refused.
    await page.goto(`${base}/admin/#/account`);
    await page.locator('#passkeys-table .passkey-delete').click();
    await page.locator('dialog .btn-danger').click();
    await page.locator('#account-passkeys .empty').waitFor();
    await page.click('#sign-out');
    await page.locator('#passkey-sign-in').click();
    const err = page.locator('.form-error');
    await err.waitFor({ state: 'visible' });
    assert.match(await err.textContent(), /not registered here/);
    assert.deepEqual(cspProblems(page), []);
    await page.context().close();
    const plain = await call(env.dashboard, 'POST', '/api/auth/token/', who);
    assert.equal(plain.status, 200);
  });
});
