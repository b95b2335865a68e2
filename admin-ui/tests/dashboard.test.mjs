// The admin dashboard in headless Chromium against a running native host.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, cspProblems, env, pages, shot, signIn } from './helpers.mjs';
// The mail the server really sent (scripts/test-admin-ui.sh runs under scripts/with-smtp.sh).
import { linkOf, tokenOf, waitForMail } from '../../client-wasm/e2e/mailbox.mjs';

const openPage = pages();

describe('sign-in gate', () => {
  it('refuses a creator', async () => {
    const page = await openPage();
    await signIn(page, env.creator);
    const err = page.locator('.form-error');
    await err.waitFor({ state: 'visible' });
    assert.match(await err.textContent(), /staff and admins only/);
    assert.equal(await page.locator('.sidebar').count(), 0);
    await shot(page, 'sign-in-refused');
    await page.context().close();
  });

  it('refuses a wrong password', async () => {
    const page = await openPage();
    await signIn(page, { email: env.admin.email, password: 'not-the-password' });
    const err = page.locator('.form-error');
    await err.waitFor({ state: 'visible' });
    assert.match(await err.textContent(), /No active account/);
    await page.context().close();
  });
});

describe('staff', () => {
  it('cannot create an admin', async () => {
    const page = await openPage();
    await signIn(page, env.staff);
    await page.locator('.sidebar').waitFor();
    await page.click('a[href="#/users"]');
    await page.locator('#users-table').waitFor();
    await page.click('#new-user');
    const options = await page.locator('select[name=user_type] option').allTextContents();
    assert.deepEqual(options, ['creator'], 'staff are offered creators only');
    await page.click('dialog .icon-btn');

    // And the API refuses it whatever the page offers.
    const login = await call(env.dashboard, 'POST', '/api/auth/token/', env.staff);
    assert.equal(login.status, 200);
    const r = await call(
      env.dashboard,
      'POST',
      '/api/admin/users/',
      { email: 'sneaky@example.com', username: 'sneaky', password: 'a-long-enough-pass-9', user_type: 'admin' },
      login.body.access,
    );
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'permission_denied');
    assert.deepEqual(cspProblems(page), []);
    await page.context().close();
  });
});

describe('an admin', () => {
  let page;
  let clientId;
  let apiKey;
  let creatorRefresh;
  let staffEmail;

  before(async () => {
    page = await openPage();
    // The creator is signed in to a creator app before the admin acts.
    const login = await call(env.web, 'POST', '/api/auth/token/', env.creator);
    assert.equal(login.status, 200);
    creatorRefresh = login.body.refresh;
  });
  after(async () => {
    await page?.context().close();
  });

  it('signs in and sees the overview', async () => {
    await signIn(page, env.admin);
    await page.locator('#chart-requests').waitFor();
    assert.match(await page.locator('.whoami').textContent(), /admin/);
  });

  it('creates a client and sees its key once', async () => {
    await page.click('a[href="#/clients"]');
    await page.locator('#clients-table').waitFor();
    await page.click('#new-client');
    await page.fill('input[name=name]', 'Playwright App');
    await page.selectOption('select[name=client_type]', 'web');
    await page.fill('input[name=rate_limit]', '500');
    await page.click('dialog button[type=submit]');
    const key = page.locator('#new-api-key');
    await key.waitFor();
    apiKey = await key.inputValue();
    clientId = await page.locator('#new-client-id').inputValue();
    assert.match(apiKey, /^sk_/);
    assert.match(clientId, /^cl_/);
    await page.click('#copy-key');
    await page.locator('#copy-key', { hasText: 'Copied' }).waitFor();
    await shot(page, 'client-key-once');
    await page.click('#key-done');

    // Gone for good: not on the list, not on the client's page.
    await page.locator(`tr[data-client="${clientId}"]`).waitFor();
    await shot(page, 'clients');
    assert.ok(!(await page.content()).includes(apiKey));
    await page.click(`tr[data-client="${clientId}"] a`);
    await page.locator('#chart-requests').waitFor();
    assert.ok(!(await page.content()).includes(apiKey));
  });

  it('sees the usage chart change after traffic', async () => {
    const total = async () => Number(await page.locator('#chart-requests').getAttribute('data-total'));
    const before = await total();
    const client = { id: clientId, key: apiKey };
    const email = `pw-${Date.now()}@example.com`;
    const reg = await call(client, 'POST', '/api/auth/register/', {
      email,
      username: `pw${Date.now()}`,
      password: 'traffic-generator-77',
      password2: 'traffic-generator-77',
      first_name: 'Play',
      last_name: 'Wright',
    });
    assert.equal(reg.status, 201);
    for (let i = 0; i < 4; i++) {
      const ok = await call(client, 'POST', '/api/auth/token/', { email, password: 'traffic-generator-77' });
      assert.equal(ok.status, 200);
      const prof = await call(client, 'GET', '/api/auth/profile/', undefined, ok.body.access);
      assert.equal(prof.status, 200);
    }
    const bad = await call(client, 'POST', '/api/auth/token/', { email, password: 'wrong-password-1' });
    assert.equal(bad.status, 401);

    await page.click('#refresh-usage');
    await page.waitForFunction(
      (b) => Number(document.querySelector('#chart-requests')?.getAttribute('data-total')) > b,
      before,
      { timeout: 15000 },
    );
    const after = await total();
    assert.ok(after >= before + 10, `requests went from ${before} to ${after}`);
    await shot(page, 'client-analytics');
  });

  it('edits the limit, rotates the key', async () => {
    await page.click('#edit-client');
    await page.fill('#edit-limit', '750');
    await page.click('dialog button[type=submit]');
    await page.locator('#client-limit', { hasText: '750' }).waitFor();
    await page.click('#rotate-key');
    await page.click('dialog .btn-danger');
    const key = page.locator('#new-api-key');
    await key.waitFor();
    const rotated = await key.inputValue();
    assert.match(rotated, /^sk_/);
    assert.notEqual(rotated, apiKey);
    await page.click('#key-done');
    const old = await call({ id: clientId, key: apiKey }, 'GET', '/api/auth/profile/');
    assert.equal(old.status, 401, 'the old key stops at once');
    apiKey = rotated;
  });

  it('edits the client email options', async () => {
    await page.locator('#client-reset-url', { hasText: 'own page' }).waitFor();
    assert.match(await page.locator('#client-signin-codes').textContent(), /off/);
    await page.click('#edit-client');
    await page.check('dialog input[name=signin_codes]');
    await page.check('dialog input[name=require_verified_email]');
    // Not http(s): the server's field error shows in the form.
    await page.fill('dialog input[name=reset_url]', 'ftp://app.example.com/reset');
    await page.click('dialog button[type=submit]');
    await page.locator('dialog .form-error', { hasText: 'reset_url' }).waitFor();
    await page.fill('dialog input[name=reset_url]', 'https://app.example.com/reset');
    await page.fill('dialog input[name=signin_url]', 'https://app.example.com/code');
    await page.click('dialog button[type=submit]');
    await page.locator('#client-reset-url', { hasText: 'https://app.example.com/reset' }).waitFor();
    await page.locator('#client-signin-url', { hasText: 'https://app.example.com/code' }).waitFor();
    assert.match(await page.locator('#client-signin-codes').textContent(), /on/);
    assert.match(await page.locator('#client-require-verified').textContent(), /required/);
    await shot(page, 'client-email-options');
    const r = await call(env.dashboard, 'POST', '/api/auth/token/', env.admin);
    const c = await call(env.dashboard, 'GET', `/api/admin/clients/${clientId}/`, undefined, r.body.access);
    assert.deepEqual(
      [c.body.signin_codes, c.body.require_verified_email, c.body.reset_url, c.body.signin_url],
      [true, true, 'https://app.example.com/reset', 'https://app.example.com/code'],
    );
    // An empty field clears it (null: Gatehouse's own page).
    await page.click('#edit-client');
    await page.fill('dialog input[name=reset_url]', '');
    await page.fill('dialog input[name=signin_url]', '');
    await page.uncheck('dialog input[name=require_verified_email]');
    await page.click('dialog button[type=submit]');
    await page.locator('#client-reset-url', { hasText: 'own page' }).waitFor();
    await page.locator('#client-signin-url', { hasText: 'code only' }).waitFor();
    assert.match(await page.locator('#client-require-verified').textContent(), /not required/);
  });

  it('rotates the signing key without signing anyone out', async () => {
    await page.click('a[href="#/keys"]');
    await page.locator('#keys-table tr[data-state=current]').waitFor();
    const kidOf = (state) => page.locator(`#keys-table tr[data-state=${state}]`).first().getAttribute('data-kid');
    const current = await kidOf('current');
    const next = await kidOf('next');
    assert.ok(!(await page.content()).match(/secret|seed/i), 'no key material on the page');
    await page.click('#rotate-signing-key');
    await page.click('dialog .btn-danger');
    await page.locator(`#keys-table tr[data-kid="${current}"][data-state=previous]`).waitFor();
    await page.locator(`#keys-table tr[data-kid="${next}"][data-state=current]`).waitFor();
    assert.equal(await page.locator('#keys-table tr[data-state=next]').count(), 1);
    await shot(page, 'signing-keys');
    // The creator's refresh token from before the rotation still works.
    const r = await call(env.web, 'POST', '/api/auth/token/refresh/', { refresh: creatorRefresh });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    creatorRefresh = r.body.refresh;
  });

  it('lists the sign-in providers read-only, never a secret', async () => {
    const t = await call(env.dashboard, 'POST', '/api/auth/token/', env.admin);
    const secret = 'provider-secret-never-shown-42';
    const made = await call(env.dashboard, 'POST', '/api/admin/providers/', {
      id: 'acme-idp', issuer: 'https://idp.example.com', client_id: 'gatehouse-at-acme', client_secret: secret,
      clients: [{ client_id: env.web.id, redirect_uris: ['https://app.example.com/auth/return'] }],
    }, t.body.access);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await page.click('a[href="#/providers"]');
    const row = page.locator('#providers-table tr[data-provider="acme-idp"]');
    await row.waitFor();
    assert.match(await row.textContent(), /https:\/\/idp\.example\.com/);
    assert.match(await row.locator(`[data-client="${env.web.id}"]`).textContent(), /https:\/\/app\.example\.com\/auth\/return/);
    assert.match(await page.locator('#providers-callback').textContent(), /\/api\/auth\/social\/callback\/$/);
    assert.ok(!(await page.content()).includes(secret), 'no client secret on the page');
    await shot(page, 'providers');
    const gone = await call(env.dashboard, 'DELETE', '/api/admin/providers/acme-idp/', undefined, t.body.access);
    assert.equal(gone.status, 204);
  });

  it('shows the creator unverified, sends a verification link (its mail verifies), then a reset link', async () => {
    await page.click('a[href="#/users"]');
    await page.locator('#users-table').waitFor();
    const search = async () => {
      await page.fill('input[type=search]', '');
      await page.fill('input[type=search]', env.creator.email);
      await page.waitForFunction(() => document.querySelectorAll('#users-table tbody tr').length === 1);
    };
    await search();
    const row = page.locator(`tr[data-email="${env.creator.email}"]`);
    await row.locator('.email-state .badge', { hasText: 'unverified' }).waitFor();
    await row.locator('.send-verification-btn').click();
    await page.locator('.toast', { hasText: 'Verification link sent' }).waitFor();
    const mail = await waitForMail(env.creator.email, 1, { subject: /confirm your email/i });
    const v = await call(env.web, 'POST', '/api/auth/email/verify/', { token: tokenOf(mail) });
    assert.equal(v.status, 200, JSON.stringify(v.body));
    await search();
    await row.locator('.email-state .badge', { hasText: /^verified$/ }).waitFor();
    assert.equal(await row.locator('.send-verification-btn').count(), 0, 'nothing to verify any more');
    await row.locator('.send-reset-btn').click();
    await page.click('dialog .btn-primary');
    await page.locator('.toast', { hasText: 'Reset link sent' }).waitFor();
    const reset = await waitForMail(env.creator.email, 1, { subject: /reset your password/i });
    assert.match(linkOf(reset), /token=[A-Za-z0-9_-]{43}/);
    await shot(page, 'users-email-state');
    await page.fill('input[type=search]', '');
    await page.waitForFunction(() => document.querySelectorAll('#users-table tbody tr').length > 1);
  });

  it('creates a staff user', async () => {
    await page.click('a[href="#/users"]');
    await page.locator('#users-table').waitFor();
    await page.click('#new-user');
    staffEmail = `staff-${Date.now()}@example.com`;
    await page.selectOption('select[name=user_type]', 'staff');
    await page.fill('dialog input[name=email]', staffEmail);
    await page.fill('dialog input[name=username]', `staff${Date.now()}`);
    await page.fill('dialog input[name=first_name]', 'Grace');
    await page.fill('dialog input[name=last_name]', 'Hopper');
    await page.fill('dialog input[name=password]', 'compiler-pioneer-1952');
    await page.click('dialog button[type=submit]');
    const row = page.locator(`tr[data-email="${staffEmail}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /staff/);
    await shot(page, 'users');
  });

  it('deactivates a creator, who then cannot refresh', async () => {
    await page.fill('input[type=search]', env.creator.email);
    await page.waitForFunction(() => document.querySelectorAll('#users-table tbody tr').length === 1);
    const row = page.locator(`tr[data-email="${env.creator.email}"]`);
    await row.waitFor();
    // Their live login (from the creator app) is listed.
    await row.locator('.sessions-btn').click();
    await page.locator('dialog .session').first().waitFor();
    assert.match(await page.locator('dialog .session-list').textContent(), /Creator Web App/);
    await shot(page, 'user-sessions', { full: false });
    await page.click('dialog .actions .btn:not(.btn-danger)');
    await row.locator('button', { hasText: 'Deactivate' }).click();
    await page.click('dialog .btn-danger');
    await row.locator('.badge', { hasText: 'inactive' }).waitFor();
    const r = await call(env.web, 'POST', '/api/auth/token/refresh/', { refresh: creatorRefresh });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'token_not_valid');
  });

  it('finds each action in the audit log', async () => {
    await page.click('a[href="#/audit"]');
    await page.locator('#audit-table').waitFor();
    await shot(page, 'audit');
    const audit = (r) => r.url().includes('/api/admin/audit/');
    const eventsFor = async (filters) => {
      // Reset first, and let its (unfiltered) answer land: it must not be drawn over the filtered one.
      const reset = page.waitForResponse((r) => audit(r) && !r.url().includes('event='));
      await page.click('#audit-filters button[type=button]');
      await reset;
      for (const [name, value] of Object.entries(filters)) await page.fill(`#audit-filters input[name=${name}]`, value);
      const wanted = Object.entries(filters).map(([k, v]) => `${k}=${v}`);
      const answered = page.waitForResponse((r) => audit(r) && wanted.every((w) => decodeURIComponent(r.url()).includes(w)));
      await page.click('#audit-filters button[type=submit]');
      const shown = (await (await answered).json()).results.map((e) => e.event);
      // The table is drawn once the page has read the answer: wait until it shows exactly those events.
      await page.waitForFunction((want) => {
        const rows = [...document.querySelectorAll('#audit-table tbody tr')].map((r) => r.dataset.event);
        return want.length ? rows.join() === want.join() : !!document.querySelector('.table-box .empty');
      }, shown);
      return page.locator('#audit-table tbody tr').evaluateAll((rows) => rows.map((r) => [r.dataset.event, r.textContent]));
    };
    const has = (events, name, text = '') => events.some(([e, t]) => e === name && t.includes(text));
    const clientEvents = await eventsFor({ event: 'client.*' });
    assert.ok(has(clientEvents, 'client.created', clientId), `client created: ${JSON.stringify(clientEvents)}`);
    assert.ok(has(clientEvents, 'client.key_rotated', clientId), 'key rotated');
    assert.ok(has(clientEvents, 'client.updated', '750'), 'limit edited');
    const traffic = await eventsFor({ event: 'login.*', client: clientId });
    assert.ok(has(traffic, 'login.succeeded'), `logins through the new client: ${JSON.stringify(traffic)}`);
    assert.ok(has(traffic, 'login.failed'), 'the failed login');
    const userEvents = await eventsFor({ event: 'user.*' });
    assert.ok(has(userEvents, 'user.created', staffEmail), `staff created: ${JSON.stringify(userEvents)}`);
    assert.ok(has(userEvents, 'user.deactivated', 'is_active'), 'creator deactivated');
    const mailEvents = await eventsFor({ event: 'email.*' });
    assert.ok(has(mailEvents, 'email.verification_sent', 'admin'), `verification sent by an admin: ${JSON.stringify(mailEvents)}`);
    const resetEvents = await eventsFor({ event: 'password.*' });
    assert.ok(has(resetEvents, 'password.reset_requested', 'admin'), `reset link sent by an admin: ${JSON.stringify(resetEvents)}`);
    await shot(page, 'audit-filtered');

    // The overview after all that traffic.
    await page.click('a[href="#/"]');
    await page.locator('#chart-requests').waitFor();
    await page.locator('#top-clients .bar-row').first().waitFor();
    await shot(page, 'overview');
    assert.deepEqual(cspProblems(page), []);
  });

  it('adds a webhook endpoint: secret once, a refused address flagged, the log with send again', async () => {
    await page.click('a[href="#/webhooks"]');
    await page.click('#new-webhook');
    // A private address: the server's outbound policy refuses it.
    await page.fill('input[name=url]', 'http://10.255.255.1:9/hook');
    await page.click('dialog button[type=submit]');
    const secret = page.locator('#new-webhook-secret');
    await secret.waitFor();
    const value = await secret.inputValue();
    assert.match(value, /^whsec_/);
    await shot(page, 'webhook-secret-once');
    await page.click('#secret-done');
    const row = page.locator('#webhooks-table tr[data-webhook]', { hasText: '10.255.255.1' });
    await row.waitFor();
    assert.ok(!(await page.content()).includes(value));
    await row.getByRole('button', { name: 'Ping' }).click();
    // The sender refuses the address: the message dead, the endpoint flagged.
    for (let i = 0; i < 40; i++) {
      await page.click('a[href="#/"]');
      await page.click('a[href="#/webhooks"]');
      const flagged = page.locator('#webhooks-table tr[data-webhook]', { hasText: '10.255.255.1' }).locator('.badge', { hasText: 'disabled' });
      if (await flagged.count()) break;
      await page.waitForTimeout(250);
    }
    const flaggedRow = page.locator('#webhooks-table tr[data-webhook]', { hasText: '10.255.255.1' });
    await flaggedRow.locator('.badge', { hasText: 'disabled' }).waitFor();
    await flaggedRow.getByRole('button', { name: 'Deliveries' }).click();
    await page.locator('#webhook-messages tr[data-message]', { hasText: 'webhook.test' }).locator('.badge', { hasText: 'dead' }).waitFor();
    await page.locator('#webhook-attempts', { hasText: 'refused' }).waitFor();
    await shot(page, 'webhook-log');
    await page.locator('#webhook-messages').getByRole('button', { name: 'Send again' }).first().click();
    await page.locator('.toast', { hasText: 'Queued again' }).waitFor();
  });
});
