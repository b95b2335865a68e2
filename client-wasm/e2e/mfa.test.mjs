// Second factors in headless Chromium: the packed package in a page against a
// real gatehouse (its embedded database gets a data key beside it). The TOTP
// codes are computed here (e2e/totp.mjs), as an authenticator app would.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertSignedInLikeLogin, clientPage, e2eSetup, openClient } from "./site.mjs";
import { newUser } from "./harness.mjs";
import { totp } from "./totp.mjs";

const PAGE = clientPage(
  "gatehouse mfa e2e",
  `// A rejection as {status, code, mfaToken, methods}, a result as ["ok", value].
window.run = (p) => p.then((v) => ["ok", v], (e) => ({ status: e.status, code: e.code, mfaToken: e.mfaToken, methods: e.methods }));`,
);

let site, browser, cfg;

e2eSetup(PAGE, {}, async (live) => {
  ({ site, browser, cfg } = live);
});

test("TOTP: enrol (code computed here) → login rejects mfa_required with mfaToken → verifyMfa signs in", async () => {
  const { ctx, page, errors } = await openClient(await browser.newContext(), site.url + "/", cfg);
  const user = newUser("mfa");
  await page.evaluate((u) => gh.register(u).then(() => true), user);

  const none = await page.evaluate(() => gh.mfaFactors());
  assert.equal(none.totp, null);
  const en = await page.evaluate(() => gh.enrollTotp());
  assert.match(en.secret, /^[A-Z2-7]{32}$/);
  assert.match(en.otpauth_uri, /^otpauth:\/\/totp\//);
  assert.match(en.qr_svg, /<svg/);
  const wrong = await page.evaluate((c) => run(gh.confirmTotp(c)), totp(en.secret, 5));
  assert.equal(wrong.status, 400);
  assert.equal(wrong.code, "invalid_mfa_code");
  // Each step's code is accepted once: confirm with this step's, verify with the next one's.
  const now = Date.now();
  const conf = await page.evaluate((c) => gh.confirmTotp(c), totp(en.secret, 0, now));
  assert.equal(conf.recovery_codes.length, 10);
  const on = await page.evaluate(() => gh.mfaFactors());
  assert.ok(on.totp && on.totp.confirmed_at);
  assert.equal(on.recovery_codes_left, 10);

  await page.evaluate(() => gh.logout());
  await page.evaluate(() => (events.length = 0));
  const rej = await page.evaluate((u) => run(gh.login(u.email, u.password)), user);
  assert.equal(rej.status, 401);
  assert.equal(rej.code, "mfa_required");
  assert.equal(typeof rej.mfaToken, "string");
  assert.ok(rej.mfaToken.length >= 43);
  assert.deepEqual(rej.methods, ["totp", "recovery_code"]);
  assert.equal(await page.evaluate(() => gh.session), null, "no session before the second factor");

  const bad = await page.evaluate(([t, c]) => run(gh.verifyMfa(t, { code: c })), [rej.mfaToken, totp(en.secret, 7, now)]);
  assert.equal(bad.code, "invalid_mfa_code");
  const ok = await page.evaluate(([t, c]) => run(gh.verifyMfa(t, { code: c }).then((s) => !!s.access)), [rej.mfaToken, totp(en.secret, 1, now)]);
  assert.deepEqual(ok, ["ok", true]);
  await assertSignedInLikeLogin(page, user.email);
  // Single use.
  const again = await page.evaluate(([t, c]) => run(gh.verifyMfa(t, { code: c })), [rej.mfaToken, totp(en.secret, 1, now)]);
  assert.equal(again.code, "mfa_token_invalid");

  // A recovery code signs in too; then the aal2 login removes the factor.
  await page.evaluate(() => gh.logout());
  const rej2 = await page.evaluate((u) => run(gh.login(u.email, u.password)), user);
  const rc = await page.evaluate(([t, c]) => run(gh.verifyMfa(t, { recoveryCode: c }).then((s) => !!s.access)), [rej2.mfaToken, conf.recovery_codes[0]]);
  assert.deepEqual(rc, ["ok", true]);
  assert.equal((await page.evaluate(() => gh.mfaFactors())).recovery_codes_left, 9);
  const off = await page.evaluate((p) => run(gh.disableTotp({ password: p })), user.password);
  assert.equal(off[0], "ok", JSON.stringify(off));
  await page.evaluate(() => gh.logout());
  const plain = await page.evaluate((u) => run(gh.login(u.email, u.password).then((s) => !!s.access)), user);
  assert.deepEqual(plain, ["ok", true]);
  assert.deepEqual(errors, []);
  await ctx.close();
});
